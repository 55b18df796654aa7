/** One item with every answer (reviewers and up; gold for managers). */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerLabels, answerText, labelIssueText, modelAnswerText, reviewText, statusText, when } from "../format";
import { ItemView } from "../itemView";
import type { Answer, Item, Project, StoredAnswer } from "../types";

export function ItemDetail({ projectId, itemId }: { projectId: number; itemId: number }) {
  const [detail, setDetail] = useState<{ item: Item; answers: StoredAnswer[] } | null>(null);
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
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
        <a class="button" href={`#/p/${projectId}/items`}>All items</a>
      </div>
      <p class="message" role="status">{note}</p>
      <p class="muted" data-testid="item-status">
        {`${statusText(item.status)}${review ? ` · ${review}` : ""} · ${item.answer_count} of ${item.needed} answers · priority ${item.priority}`}
      </p>
      <ItemView fields={project.label_schema.fields} data={item.data} meta={item.meta} />
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
