/**
 * "Run a round": starts a round of the learning loop (a background job), follows it with a
 * progress bar and the job's message, then shows what the round did or why it failed.
 */

import type { RoundMetrics } from "../types";
import { active, JobFailure, useProjectJob } from "./jobs";
import { pct } from "./Quality";
import { pct1, trained } from "./LoopCurve";

/** What a finished round did, in sentences. */
function RoundResult({ projectId, result }: { projectId: number; result: RoundMetrics & { model_version?: number } }) {
  const m = result;
  const lines: string[] = [];
  if (!trained(m)) {
    lines.push(`Not trained: ${m.reason ?? "too few labelled items"} (${m.labelled ?? 0} so far).`);
    lines.push("The queue is ordered for a cold start: items from every cluster of the data come first.");
  } else {
    lines.push(`Trained on ${m.labelled ?? 0} labelled items (${m.human_answers ?? 0} human answers so far).`);
    if (m.oof_accuracy !== undefined) lines.push(`Out-of-fold accuracy: ${pct1(m.oof_accuracy)}.`);
    if (m.gold_accuracy !== undefined) lines.push(`Accuracy on ${m.gold_items ?? "the"} gold items: ${pct1(m.gold_accuracy)}.`);
    if (m.strategy) lines.push(`The queue is now ordered by the ${m.strategy} strategy.`);
    if (m.autolabelled === undefined) lines.push("Auto-labelling is off.");
    else if (m.autolabelled > 0) {
      lines.push(`Auto-labelled ${m.autolabelled} items (${pct(m.autolabel_coverage)} of those nobody had touched); `
        + `their accuracy is provably at least ${pct1(m.autolabel_lower_bound)}`
        + `${typeof m.autolabel_threshold === "number" ? ` (model confidence ${pct1(m.autolabel_threshold)} and up)` : ""}.`);
    } else lines.push("Auto-labelled nothing: no confidence threshold could be shown to reach the target accuracy.");
  }
  const issues = m.label_issues ?? 0;
  return (
    <section class="round-result" aria-labelledby="round-result-h">
      <h3 id="round-result-h">{`Result${m.model_version !== undefined ? ` (model ${m.model_version})` : ""}`}</h3>
      <ul>
        {lines.map((l) => <li>{l}</li>)}
        {m.flagging && !m.flagging.allowed ? (
          <li class="flags-withheld">{`No label errors flagged: ${m.flagging.reason ?? "the model has not earned it yet"}.`}</li>
        ) : m.label_issues !== undefined && (
          <li>
            {`${issues} suspected label ${issues === 1 ? "error" : "errors"} sent to review.`}
            {issues > 0 && <> <a href={`#/p/${projectId}/items?review=pending`}>See the items waiting for review</a></>}
          </li>
        )}
      </ul>
    </section>
  );
}

export function RunRound({ projectId, onFinished }: { projectId: number; onFinished: () => void }) {
  const { job, busy, error, start } = useProjectJob(projectId, "round", `/api/projects/${projectId}/loop/rounds`, onFinished);
  const running = active(job);
  const total = job?.progress_total || 7;
  const done = Math.min(job?.progress_done ?? 0, total);
  let status = "";
  if (running) status = job!.status === "queued" ? "Waiting to start…" : `Step ${Math.min(done + 1, total)} of ${total}: ${job!.message || "working"}…`;
  else if (job?.status === "succeeded") status = "The round is done.";
  else if (job?.status === "failed") status = "The round failed.";
  return (
    <div class="round-run">
      <p class="buttons">
        <button type="button" class="primary" onClick={start} aria-disabled={busy}>Run a round</button>
      </p>
      <p role="status" class="round-status">{status}</p>
      {running && (
        <progress class="round-progress" max={total} value={done} aria-label="Round progress">
          {`${done} of ${total} steps`}
        </progress>
      )}
      {job?.status === "succeeded" && job.result && <RoundResult projectId={projectId} result={job.result as RoundMetrics} />}
      {job?.status === "failed" && <JobFailure what="The round" job={job} />}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
