/**
 * A project's learning loop, for managers (docs/loop.md): run a round and follow it, pre-label
 * audio with a speech model (projects with an audio_segments question), the learning curve
 * (accuracy against human answers spent, one point per round), the way to the label issues a round
 * sent to review, and the loop settings.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { LoopRound, Project } from "../types";
import { LearningCurve } from "./LoopCurve";
import { RunPrelabel } from "./LoopPrelabel";
import { RunRound } from "./LoopRun";
import { LoopSettingsForm } from "./LoopSettings";
import { hasSegments } from "./speechSettings";

export function LoopPage({ projectId }: { projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [rounds, setRounds] = useState<LoopRound[] | null>(null);
  const [error, setError] = useState("");
  const [roundsError, setRoundsError] = useState("");
  const loadRounds = () => {
    api<LoopRound[]>("GET", `/api/projects/${projectId}/loop/rounds`)
      .then((r) => {
        setRounds(r);
        setRoundsError("");
      })
      .catch((e) => setRoundsError(errorText(e)));
  };
  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
    loadRounds();
  }, [projectId]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!project) return <main><p>Loading…</p></main>;
  const last = rounds?.length ? rounds[rounds.length - 1]!.metrics : null;
  const review = `#/p/${projectId}/items?review=pending`;
  return (
    <main class="loop">
      <div class="bar">
        <h1>{`Learning loop: ${project.name}`}</h1>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
      </div>
      <p class="muted">
        Each round trains a model on the items people have labelled, orders the queue, pre-labels the
        next tasks, auto-labels what the model is provably sure of and sends suspected label errors to review.
      </p>

      <section class="panel" aria-labelledby="round-h">
        <h2 id="round-h">Run a round</h2>
        <RunRound projectId={projectId} onFinished={loadRounds} />
      </section>

      {hasSegments(project) && "transcriber" in project.loop && (
        <section class="panel" aria-labelledby="prelabel-h">
          <h2 id="prelabel-h">Pre-label audio</h2>
          <p class="muted">
            A speech model marks where people speak, and what they say, in every audio file; annotators
            see its segments as editable suggestions, as the pre-label settings below allow.
          </p>
          <RunPrelabel project={project} />
        </section>
      )}

      <section class="panel" aria-labelledby="curve-h">
        <h2 id="curve-h">Learning curve</h2>
        {roundsError ? <p class="error" role="alert">{roundsError}</p>
          : rounds === null ? <p>Loading…</p> : <LearningCurve rounds={rounds} />}
      </section>

      <section class="panel" aria-labelledby="issues-h">
        <h2 id="issues-h">Label issues</h2>
        <p>
          {last?.flagging && !last.flagging.allowed
            ? `The last round flagged nothing: ${last.flagging.reason ?? "the model has not earned it yet"}. `
            : last?.label_issues !== undefined
              ? `The last round sent ${last.label_issues} suspected label ${last.label_issues === 1 ? "error" : "errors"} to review. `
              : ""}
          Once the model beats chance with confidence and knows each class from enough labelled items,
          answers it confidently disagrees with go to the review queue, with the disputed items.
        </p>
        <p class="buttons">
          <a class="button" href={`#/p/${projectId}/items?label_issue=true`}>Items the model suspects</a>
          <a class="button" href={review}>Items waiting for review</a>
          <a class="button" href={`#/p/${projectId}/review`}>Open the review queue</a>
        </p>
      </section>

      <section class="panel" aria-labelledby="loop-settings-h">
        <h2 id="loop-settings-h">Loop settings</h2>
        <p class="muted">Changes apply from the next round; pre-labels are shown or hidden at once.</p>
        <LoopSettingsForm project={project} onSaved={setProject} />
      </section>
    </main>
  );
}
