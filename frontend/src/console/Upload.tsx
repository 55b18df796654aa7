/** Upload a data file with a progress bar (the request's upload progress, then the import job's). */

import { useState } from "preact/hooks";
import { api, csrfToken, errorText } from "../api";
import { ProblemList } from "../problems";
import type { Job, Problem } from "../types";

interface UploadError {
  message: string;
  problems: Problem[];
}

/** The formats the server reads (services/importing/readers.py); "" lets it go by the file's name. */
const FORMATS: [string, string][] = [
  ["", "from the file's name"],
  ["jsonl", "JSON Lines: one object per line"],
  ["json", "JSON: an array of objects"],
  ["csv", "CSV: a header, then one item per row"],
  ["tsv", "TSV: like CSV, tab-separated"],
  ["zip", "a zip of .txt files (one item per file)"],
  // Audio with its segments (docs/audio.md, "Formats"): the segments become the items' gold.
  ["nemo", "a zip of audio files and a NeMo manifest (segments as gold)"],
  ["srt", "a zip of audio files, each with its .srt beside it (segments as gold)"],
  ["webvtt", "a zip of audio files, each with its .vtt beside it (segments as gold)"],
  ["rttm", "a zip of audio files, each with its .rttm beside it (speaker turns as gold)"],
];
const KNOWN_SUFFIX = /\.(jsonl|ndjson|json|csv|tsv|zip)$/i;

/** Why the server could not tell this file's format from its name, before it is sent. */
function formatHint(file: File | null, format: string): string {
  if (!file || format) return "";
  if (/\.txt$/i.test(file.name)) {
    return "A single .txt file cannot be imported as it is: put your .txt files in a zip and upload " +
      "that (each file becomes one item, named after the file), or choose the format below if " +
      "this file holds JSON lines, CSV or TSV.";
  }
  if (!KNOWN_SUFFIX.test(file.name)) {
    return "The format cannot be told from this file's name: choose it below.";
  }
  return "";
}

function send(projectId: number, file: File, format: string, onProgress: (sent: number) => void): Promise<Job> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams({ filename: file.name });
    if (format) query.set("format", format);
    xhr.open("POST", `/api/projects/${projectId}/imports?${query}`);
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

/** What a finished import did: new items, and those already in the project (a re-import). */
function resultText(result: Record<string, unknown> | null): string {
  const created = Number(result?.["created"] ?? 0);
  const unchanged = Number(result?.["unchanged"] ?? 0);
  return `Imported: ${created} new item${created === 1 ? "" : "s"}` +
    (unchanged ? `, ${unchanged} unchanged (already in the project)` : "");
}

export function Upload({ projectId, onDone }: { projectId: number; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState("");
  const [phase, setPhase] = useState("");
  const [done, setDone] = useState(0);
  const [total, setTotal] = useState(1);
  const [error, setError] = useState<UploadError | null>(null);
  const hint = formatHint(file, format);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!file || hint) return;
    setError(null);
    setPhase("Uploading");
    setTotal(file.size || 1);
    try {
      let job = await send(projectId, file, format, setDone);
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
        setPhase(resultText(job.result));
        onDone();
      }
    } catch (err) {
      setError(err && typeof err === "object" && "problems" in err ? (err as UploadError) : { message: errorText(err), problems: [] });
      setPhase("");
    }
  };

  const busy = phase === "Uploading" || phase === "Importing";
  return (
    <form onSubmit={start} class="upload">
      <p class="muted" id="upload-formats">
        One item per line or row (JSON Lines, CSV, TSV), per object (a JSON array), or a zip of .txt
        files or of images (one item per file). Records name the schema's fields; see docs/api.md, "Import".
      </p>
      <div class="filters">
        <label>
          Data file
          <input type="file" accept=".jsonl,.ndjson,.json,.csv,.tsv,.zip,.txt" aria-describedby="upload-formats"
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setPhase("");
              setError(null);
            }} />
        </label>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
            {FORMATS.map(([value, text]) => <option value={value}>{text}</option>)}
          </select>
        </label>
        <button type="submit" disabled={!file || !!hint || busy} aria-describedby={hint ? "upload-hint" : undefined}>
          Upload
        </button>
      </div>
      {hint && <p class="notice" id="upload-hint" role="status">{hint}</p>}
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
          <ProblemList problems={error.problems} />
        </div>
      )}
    </form>
  );
}
