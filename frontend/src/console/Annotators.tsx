/**
 * Each annotator's record, with a pause (and its reason) or a resume. On projects with shape
 * questions, a column scores their objects on gold images (matched one to one with the gold's); on
 * projects with video_tracks questions, one gives their MOTA, IDF1 and HOTA on gold videos; on
 * projects with transcript questions, one gives their word error rate against the consensus and on
 * gold clips (and their segments on gold).
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { isShapeQuestion } from "../canvas/words";
import { title } from "../questions/kind";
import type { AnnotatorQuality, GoldShapes, GoldTracks, Project } from "../types";
import { num, pct } from "./Quality";
import { TranscriptCell, transcriptQuestions } from "./Transcripts";

const FLAG_TEXT: Record<string, string> = {
  same_label: "always the same label",
  too_fast: "much faster than peers",
  chance_level: "agrees with consensus at chance level",
};

export const seconds = (ms: number | null) => (ms === null ? "–" : `${(ms / 1000).toFixed(1)} s`);

const images = (n: number) => `${n} gold ${n === 1 ? "image" : "images"}`;

/** One shape question's score in words: F1, the mean IoU (OKS) of matched objects, over how many images. */
export function goldShapesText(g: GoldShapes): string {
  return `F1 ${num(g.f1)}, mean ${g.similarity === "oks" ? "OKS" : "IoU"} ${num(g.mean_similarity)} on ${images(g.answers)}`;
}

/** The shapes cell: one line per shape question the annotator answered on gold (named when several). */
function GoldShapesCell({ u, questions }: { u: AnnotatorQuality; questions: { name: string; title: string }[] }) {
  const scored = questions.filter((q) => u.gold_shapes?.[q.name]);
  if (!scored.length) return <>–</>;
  return (
    <ul class="gold-shapes">
      {scored.map((q) => {
        const g = u.gold_shapes![q.name]!;
        return (
          <li data-question={q.name}>
            {questions.length > 1 && <span class="q">{`${q.title}: `}</span>}
            {goldShapesText(g)}
            <span class="counts">{` (${g.matched} matched, ${g.missed} missed, ${g.extra} extra)`}</span>
          </li>
        );
      })}
    </ul>
  );
}

const videos = (n: number) => `${n} gold ${n === 1 ? "video" : "videos"}`;

/** One track question's scores in words: MOTA, IDF1, HOTA and identity switches, over how many videos. */
export function goldTracksText(g: GoldTracks): string {
  return `MOTA ${num(g.mota)}, IDF1 ${num(g.idf1)}, HOTA ${num(g.hota)} on ${videos(g.answers)}`;
}

/** The tracks cell: one line per video_tracks question the annotator answered on gold (named when several). */
function GoldTracksCell({ u, questions }: { u: AnnotatorQuality; questions: { name: string; title: string }[] }) {
  const scored = questions.filter((q) => u.gold_tracks?.[q.name]);
  if (!scored.length) return <>–</>;
  return (
    <ul class="gold-tracks">
      {scored.map((q) => {
        const g = u.gold_tracks![q.name]!;
        return (
          <li data-question={q.name}>
            {questions.length > 1 && <span class="q">{`${q.title}: `}</span>}
            {goldTracksText(g)}
            <span class="counts">{` (${g.switches} identity ${g.switches === 1 ? "switch" : "switches"})`}</span>
          </li>
        );
      })}
    </ul>
  );
}

function PauseForm({ who, onPause, onCancel }: { who: string; onPause: (reason: string) => void; onCancel: () => void }) {
  const [reason, setReason] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form class="inline" onSubmit={(e) => {
      e.preventDefault();
      onPause(reason.trim());
    }}>
      <label>
        {`Reason for pausing ${who}`}
        <input ref={input} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="submit">{`Pause ${who}`}</button>
      <button type="button" class="link" onClick={onCancel}>Cancel</button>
    </form>
  );
}

export function Annotators({ projectId, people, onChange, project }: {
  projectId: number; people: AnnotatorQuality[]; onChange: () => void;
  /** Its shape questions get the gold-shapes column. */
  project?: Project;
}) {
  const shapes = (project?.label_schema.questions ?? []).filter(isShapeQuestion)
    .map((q) => ({ name: q.name, title: title(q) }));
  const tracked = (project?.label_schema.questions ?? []).filter((q) => q.type === "video_tracks")
    .map((q) => ({ name: q.name, title: title(q) }));
  const spoken = project ? transcriptQuestions(project.label_schema) : [];
  const [pausing, setPausing] = useState<number | null>(null);
  const [error, setError] = useState("");
  const setPaused = (u: AnnotatorQuality, paused: boolean, reason: string | null) => {
    setError("");
    api("PUT", `/api/projects/${projectId}/annotators/${u.user_id}/pause`, { paused, reason })
      .then(() => {
        setPausing(null);
        onChange();
      })
      .catch((e) => setError(errorText(e)));
  };
  return (
    <>
      <table class="data annotators">
        <caption>Annotators</caption>
        <thead>
          <tr>
            <th scope="col">Annotator</th><th scope="col">Answers</th><th scope="col">Median time</th>
            <th scope="col">Gold accuracy (95% interval)</th>
            {shapes.length > 0 && <th scope="col">Shapes on gold images</th>}
            {tracked.length > 0 && <th scope="col">Tracks on gold videos</th>}
            {spoken.length > 0 && <th scope="col">Transcripts (word error rate)</th>}
            <th scope="col">Agrees with consensus</th>
            <th scope="col">Skill</th><th scope="col">Flags</th><th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {people.map((u) => (
            <tr data-annotator={u.username} class={u.paused ? "paused" : ""}>
              <th scope="row">{u.username}</th>
              <td>{u.answers}</td>
              <td>{seconds(u.median_duration_ms)}</td>
              <td>
                {u.gold_answered
                  ? `${pct(u.gold_accuracy)} (${pct(u.gold_accuracy_low)}–${pct(u.gold_accuracy_high)}), ${u.gold_correct} of ${u.gold_answered}`
                  : "–"}
              </td>
              {shapes.length > 0 && <td data-col="gold-shapes"><GoldShapesCell u={u} questions={shapes} /></td>}
              {tracked.length > 0 && <td data-col="gold-tracks"><GoldTracksCell u={u} questions={tracked} /></td>}
              {spoken.length > 0 && <td data-col="transcripts"><TranscriptCell u={u} questions={spoken} /></td>}
              <td>{pct(u.agreement_with_consensus)}</td>
              <td>{pct(u.skill)}</td>
              <td>{u.flags.map((f) => FLAG_TEXT[f] ?? f).join(", ")}</td>
              <td>
                {u.paused ? (
                  <>
                    <span class="badge paused-badge">paused</span>
                    {u.paused_reason && <span class="reason">{u.paused_reason}</span>}{" "}
                    <button type="button" onClick={() => setPaused(u, false, null)}>{`Resume ${u.username}`}</button>
                  </>
                ) : pausing === u.user_id ? (
                  <PauseForm who={u.username} onCancel={() => setPausing(null)}
                    onPause={(reason) => setPaused(u, true, reason || "paused by a manager")} />
                ) : (
                  <button type="button" aria-label={`Pause ${u.username}…`} onClick={() => setPausing(u.user_id)}>Pause…</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}
