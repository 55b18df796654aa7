/** Upload a data file with a progress bar (the request's upload progress, then the import job's). */

import { useState } from "preact/hooks";
import { api, csrfToken, errorText } from "../api";
import type { Job, Problem } from "../types";

interface UploadError {
  message: string;
  problems: Problem[];
}

function send(projectId: number, file: File, onProgress: (sent: number) => void): Promise<Job> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/projects/${projectId}/imports?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject({ message: "The server cannot be reached.", problems: [] } satisfies UploadError);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Job);
      else {
        const err = (body as { error?: UploadError } | null)?.error;
        reject({ message: err?.message ?? `HTTP ${xhr.status}`, problems: err?.problems ?? [] });
      }
    };
    xhr.send(file);
  });
}

export function Upload({ projectId, onDone }: { projectId: number; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState("");
  const [done, setDone] = useState(0);
  const [total, setTotal] = useState(1);
  const [error, setError] = useState<UploadError | null>(null);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setPhase("Uploading");
    setTotal(file.size || 1);
    try {
      let job = await send(projectId, file, setDone);
      setPhase("Importing");
      while (job.status === "queued" || job.status === "running") {
        setDone(job.progress_done);
        setTotal(job.progress_total || file.size || 1);
        await new Promise((r) => setTimeout(r, 300));
        job = await api<Job>("GET", `/api/jobs/${job.id}`);
      }
      if (job.status === "failed") {
        setError({ message: job.error?.message ?? "the import failed", problems: job.error?.problems ?? [] });
        setPhase("");
      } else {
        setDone(total);
        const n = job.result?.["created"];
        setPhase(`Imported${n !== undefined ? `: ${String(n)} new items` : ""}`);
        onDone();
      }
    } catch (err) {
      setError(err && typeof err === "object" && "problems" in err ? (err as UploadError) : { message: errorText(err), problems: [] });
      setPhase("");
    }
  };

  return (
    <form onSubmit={start} class="upload">
      <label>
        Data file (JSONL, JSON, CSV, TSV or a zip of .txt files)
        <input type="file" accept=".jsonl,.json,.csv,.tsv,.zip"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
      </label>
      <button type="submit" disabled={!file || phase === "Uploading" || phase === "Importing"}>Upload</button>
      {phase && (
        <p role="status">
          {phase}{" "}
          <progress max={total} value={Math.min(done, total)} aria-label="upload progress">
            {Math.round((100 * done) / total)}%
          </progress>
        </p>
      )}
      {error && (
        <div class="problems" role="alert">
          <p>{error.message}</p>
          <ul>{error.problems.slice(0, 20).map((p) => <li>{[p.line ? `line ${p.line}` : "", p.field ?? "", p.message].filter(Boolean).join(": ")}</li>)}</ul>
        </div>
      )}
    </form>
  );
}
