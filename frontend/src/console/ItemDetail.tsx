/**
 * One item with every answer (reviewers and up; gold for managers). A language-model item's
 * prompt and candidates are shown as the workbench shows them (Markdown, safely), but in the
 * item's own order, each under its id with the model that wrote it and how: this page is for
 * reviewers and managers (access.tsx), who see what annotators must not (docs/feedback.md).
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { contentText } from "../feedback/candidates";
import { CandidatePanes, feedbackField, type Pane } from "../feedback/Panes";
import { answerLabels, answerText, labelIssueText, modelAnswerText, reviewText, statusText, when } from "../format";
import { ItemView } from "../itemView";
import { Markdown } from "../markdown/render";
import type { Answer, FieldSpec, Item, LabelSchema, Project, StoredAnswer } from "../types";
import { RevealButton, RevealedOriginal, type Revealed } from "./Privacy";

const CLIP = 60;
const clip = (s: string) => (s.length > CLIP ? `${s.slice(0, CLIP - 1)}…` : s);
const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const plain = (v: unknown) => clip(typeof v === "string" ? v : JSON.stringify(v) ?? "");

/**
 * A candidate's `meta` in a line of short parts: what generation records (docs/feedback.md,
 * "Generation": the parameters, seconds, time, tokens) in words, anything else as `key: value`.
 */
export function metaParts(meta: unknown): string[] {
  if (!isRecord(meta)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (v === null || v === undefined) continue;
    if (k === "parameters" && isRecord(v)) {
      for (const [p, x] of Object.entries(v)) {
        if (x === null || x === undefined) continue;
        out.push(p === "system_prompt" ? `system prompt “${plain(x)}”` : `${p} ${plain(x)}`);
      }
    } else if (k === "seconds" && typeof v === "number") out.push(`${v.toFixed(2)} s`);
    else if (k === "generated_at" && typeof v === "string") out.push(when(v));
    else if (k === "usage" && isRecord(v) && typeof v.completion_tokens === "number") {
      out.push(`tokens ${plain(v.prompt_tokens ?? "?")} in, ${plain(v.completion_tokens)} out`);
    } else if (k === "finish_reason") out.push(`finished: ${plain(v)}`);
    else if (k === "choices_asked") out.push(`n ${plain(v)}`);
    else if (k === "job_id") out.push(`job ${plain(v)}`);
    else out.push(`${k}: ${plain(v)}`);
  }
  return out;
}

/** The candidates as stored: the item's order, titled by id, each with its model and meta. */
function StoredResponses({ value }: { value: unknown }) {
  const seen = new Set<string>();
  const panes: Pane[] = [];
  (Array.isArray(value) ? value : []).forEach((r, i) => {
    // Plain strings are what an import turns into candidates r1, r2, … (docs/feedback.md).
    const c = typeof r === "string" ? { id: `r${i + 1}`, content: r } : isRecord(r) ? r : {};
    if (typeof c.id !== "string" || seen.has(c.id)) return;
    seen.add(c.id);
    const content = contentText(c.content);
    const model = typeof c.model === "string" && c.model ? c.model : null;
    const meta = metaParts(c.meta);
    panes.push({
      shown: { candidate: { id: c.id, content }, letter: c.id },
      note: model ? `model: ${model}` : "model not recorded",
      body: (
        <>
          {meta.length > 0 && <p class="candidate-meta" title={JSON.stringify(c.meta)}>{meta.join(" · ")}</p>}
          <Markdown source={content} />
        </>
      ),
    });
  });
  return <CandidatePanes panes={panes} />;
}

function fieldShown(schema: LabelSchema, f: FieldSpec, data: Record<string, unknown>) {
  return f.type === "responses" ? <StoredResponses value={data[f.name]} /> : feedbackField(schema, f, data);
}

export function ItemDetail({ projectId, itemId }: { projectId: number; itemId: number }) {
  const [detail, setDetail] = useState<{ item: Item; answers: StoredAnswer[] } | null>(null);
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  useEffect(() => {
    setRevealed(null);
    api<{ item: Item; answers: StoredAnswer[] }>("GET", `/api/projects/${projectId}/items/${itemId}`)
      .then(setDetail).catch((e) => setError(errorText(e)));
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch(() => undefined);
  }, [projectId, itemId]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!detail || !project) return <main><p>Loading…</p></main>;
  const { item, answers } = detail;
  const schema = project.label_schema;
  // What people read: the schema's labels and the words a span covers; the stored value as a tooltip.
  const shown = (a: Answer) => <span title={answerText(a)}>{answerLabels(schema, a, item.data)}</span>;
  const review = reviewText(item.review);
  const flag = () =>
    api("POST", `/api/projects/${projectId}/items/${itemId}/flag`)
      .then(() => setNote("Sent to the review queue."))
      .catch((e) => setNote(`Could not flag the item: ${errorText(e)}`));
  return (
    <main class="item-detail">
      <div class="bar">
        <h1>{`Item ${item.external_id}`}</h1>
        <button type="button" onClick={flag}>Flag for review</button>
        <a class="button" href={`#/p/${projectId}/items?like=${item.id}`}>Similar items</a>
        <a class="button" href={`#/p/${projectId}/items`}>All items</a>
      </div>
      <p class="message" role="status">{note}</p>
      <p class="muted" data-testid="item-status">
        {`${statusText(item.status)}${review ? ` · ${review}` : ""} · ${item.answer_count} of ${item.needed} answers · priority ${item.priority}`}
      </p>
      <ItemView fields={schema.fields} data={item.data} meta={item.meta}
        content={(f) => fieldShown(schema, f, item.data)} />
      {revealed ? <RevealedOriginal fields={schema.fields} revealed={revealed} />
        : <RevealButton projectId={projectId} itemId={itemId} onRevealed={setRevealed} />}
      {item.gold && <p class="gold"><strong>Gold:</strong> {shown(item.gold)}</p>}
      {item.consensus && (
        <p class="consensus">
          <strong>Consensus:</strong> {shown(item.consensus.value)}
          {item.consensus.confidence !== null && <span class="muted">{` (${Math.round(item.consensus.confidence * 100)}% confident)`}</span>}
        </p>
      )}
      {item.label_issue && (
        <section class="label-issue panel" aria-label="suspected label">
          <p><strong>The model suspects this label:</strong> {labelIssueText(item.label_issue)}.</p>
          <p class="muted">
            {`${item.consensus ? `The consensus is ${answerLabels(schema, item.consensus.value, item.data)}; ` : ""}`
              + `out of fold, ${modelAnswerText(item.label_issue, schema, item.data)}.`}
          </p>
        </section>
      )}
      <h2>Answers</h2>
      <table class="data">
        <thead><tr><th scope="col">Annotator</th><th scope="col">Answer</th><th scope="col">When</th><th scope="col">Time spent</th><th scope="col">Source</th></tr></thead>
        <tbody>
          {answers.map((a) => (
            <tr>
              <td>{a.username ?? String(a.user_id)}</td>
              <td class="answer">{shown(a.value)}</td>
              <td>{when(a.created_at)}</td>
              <td>{a.duration_ms === null ? "–" : `${(a.duration_ms / 1000).toFixed(1)} s`}</td>
              <td>{a.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
