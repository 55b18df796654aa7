/**
 * "Pre-label audio": runs the project's speech model over its audio files (the pre-label job,
 * docs/audio.md "Speech-to-text pre-labels"), follows it with a progress bar (files transcribed of
 * those to do), then says what it did: files transcribed, kept from the last run, left out, and how
 * the model measured against held-out references (WER, segment F1) or that it was not measured.
 */

import type { Project } from "../types";
import { active, JobFailure, useProjectJob } from "./jobs";
import { hasBoxes } from "./LoopSettings";
import { pct1 } from "./LoopCurve";

/** The pre-label job's result on an audio project (services/loop/transcripts.py). */
export interface SpeechResult {
  model_version?: number;
  question?: string;
  transcriber?: { name: string; label: string; question: string; transcript: boolean };
  transcriber_model?: string;
  items?: number;
  prelabelled?: number;
  transcribed?: number;
  reused?: number;
  without_audio?: number;
  segments?: number;
  words?: number;
  wer?: number | null;
  wer_items?: number;
  segment_f1?: number | null;
  segment_f1_items?: number;
  speech_score?: number | null;
}

const count = (n: number | undefined, one: string, many = `${one}s`) => `${(n ?? 0).toLocaleString("en")} ${n === 1 ? one : many}`;

const REFERENCES = "gold and consensus given without its suggestion";

/** What a finished pre-label job did, in sentences. */
export function SpeechResultSummary({ result, bar }: { result: SpeechResult; bar: number | null | undefined }) {
  const r = result;
  const transcript = r.transcriber?.transcript ?? r.wer != null;
  const lines: string[] = [];
  lines.push(`Pre-labelled ${count(r.prelabelled, "item")} of ${(r.items ?? 0).toLocaleString("en")}: `
    + `${count(r.segments, "segment")}${transcript ? `, ${count(r.words, "timed word")}` : ""}.`);
  lines.push(`Transcribed ${count(r.transcribed, "file")} now; kept ${count(r.reused, "file")} `
    + "transcribed before with the same settings.");
  lines.push(r.without_audio
    ? `Left out ${count(r.without_audio, "item")} whose audio is a URL, not a stored file (never fetched).`
    : "Left out no item: every audio file is stored.");
  const measured: { name: string; text: string }[] = [];
  if (transcript) {
    measured.push({
      name: "wer",
      text: r.wer == null
        ? `Held-out WER: not measured (no item has a reference transcript: ${REFERENCES}).`
        : `Held-out WER: ${pct1(r.wer)} on ${count(r.wer_items, "item")} (${REFERENCES}).`,
    });
  }
  measured.push({
    name: "segment-f1",
    text: r.segment_f1 == null
      ? `Held-out segment F1: not measured (no item has reference segments: ${REFERENCES}).`
      : `Held-out segment F1: ${pct1(r.segment_f1)} on ${count(r.segment_f1_items, "item")} `
        + "(same label, overlap at least half of the union).",
  });
  let shown = "";
  if (bar != null) {
    shown = r.speech_score == null
      ? `Unmeasured, its suggestions are held back while the bar for suggestions is ${pct1(bar)}.`
      : r.speech_score < bar
        ? `Its held-out score, ${pct1(r.speech_score)}, is under the bar for suggestions (${pct1(bar)}): they are held back.`
        : `Its held-out score, ${pct1(r.speech_score)}, reaches the bar for suggestions (${pct1(bar)}).`;
  }
  // A team's model is named `http:<its URL>`: the URL says it.
  const model = (r.transcriber_model ?? r.transcriber?.name ?? "").replace(/^http:(?=https?:\/\/)/, "");
  const about = [r.model_version !== undefined ? `model ${r.model_version}` : "", model].filter(Boolean).join(", ");
  return (
    <section class="round-result prelabel-result" aria-labelledby="prelabel-result-h">
      <h3 id="prelabel-result-h">{`Result${about ? ` (${about})` : ""}`}</h3>
      <ul>
        {lines.map((l) => <li>{l}</li>)}
        {measured.map((m) => <li data-measure={m.name}>{m.text}</li>)}
        {shown && <li>{shown}</li>}
      </ul>
    </section>
  );
}

/** The pre-label button, its progress and its result, for a project with an audio_segments question. */
export function RunPrelabel({ project }: { project: Project }) {
  const pid = project.id;
  const { job, busy, error, start } = useProjectJob(pid, "prelabel", `/api/projects/${pid}/loop/prelabel`, () => {});
  const running = active(job);
  const total = job?.progress_total ?? 0;
  const done = Math.min(job?.progress_done ?? 0, total);
  let status = "";
  if (running) {
    status = job!.status === "queued" ? "Waiting to start…"
      : total ? `${job!.message || `${done} of ${total} files`}…` : `${job!.message || "Starting"}…`;
  } else if (job?.status === "succeeded") status = "Pre-labelling is done.";
  else if (job?.status === "failed") status = "Pre-labelling failed.";
  const model = project.loop.transcriber;
  // Without a speech model the same job runs a bbox question's detector: not this button's to start.
  const blocked = !model && hasBoxes(project);
  return (
    <div class="round-run prelabel-run">
      <p class="muted prelabel-model">
        {model
          ? `The speech model: ${model} (as saved in the loop settings). Files it transcribed before with the same settings are kept.`
          : "No speech model is set: choose one in the loop settings below, and save it."}
      </p>
      <p class="buttons">
        <button type="button" class="primary" onClick={() => blocked || start()} aria-disabled={busy || blocked}>
          Pre-label audio
        </button>
      </p>
      <p role="status" class="round-status prelabel-status">{status}</p>
      {running && (
        <progress class="round-progress prelabel-progress" max={total || 1} value={total ? done : undefined}
          aria-label="Pre-labelling progress">
          {total ? `${done} of ${total} files` : "starting"}
        </progress>
      )}
      {job?.status === "succeeded" && job.result && (
        <SpeechResultSummary result={job.result as SpeechResult} bar={project.loop.suggest_min_accuracy} />
      )}
      {job?.status === "failed" && <JobFailure what="Pre-labelling" job={job} />}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
