/** The annotator's own recent answers in a project, newest first, each editable until final. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerLabels, answerText, when } from "../format";
import { newKey } from "../ids";
import { answerProblem, cleanAnswer, QuestionsForm } from "../questions/form";
import type { QuestionUi } from "../questions/kind";
import type { Answer, Project, StoredAnswer, User } from "../types";

const PAGE = 50;

interface InContext {
  answer: StoredAnswer;
  item: { id: number; external_id: string; data: Record<string, unknown>; meta: Record<string, unknown> };
  superseded_by: number | null;
  editable: boolean;
}

/** A page of the caller's answers, newest first, older than `before` (an answer id) if given. */
function ownAnswers(projectId: number, userId: number, before: number | null): Promise<StoredAnswer[]> {
  const older = before === null ? "" : `&before=${before}`;
  return api<StoredAnswer[]>(
    "GET", `/api/projects/${projectId}/answers?user_id=${userId}&newest_first=true&limit=${PAGE}${older}`,
  );
}

/** The latest answer per item, newest first: a revision comes before what it replaced. */
function latestPerItem(answers: StoredAnswer[]): StoredAnswer[] {
  const seen = new Set<number>();
  return answers.filter((a) => {
    if (seen.has(a.item_id)) return false;
    seen.add(a.item_id);
    return true;
  });
}

function Editor({ project, answerId, onDone }: { project: Project; answerId: number; onDone: () => void }) {
  const [ctx, setCtx] = useState<InContext | null>(null);
  const [answer, setAnswer] = useState<Answer>({});
  const [active, setActive] = useState(0);
  const [ui, setUi] = useState<Record<string, QuestionUi>>({});
  const [message, setMessage] = useState("");
  const [key] = useState(() => newKey("revision"));
  useEffect(() => {
    api<InContext>("GET", `/api/projects/${project.id}/answers/${answerId}`)
      .then((c) => {
        setCtx(c);
        setAnswer(c.answer.value);
      })
      .catch((e) => setMessage(errorText(e)));
  }, [answerId]);
  if (!ctx) return <p role="status">{message || "Loading…"}</p>;
  if (!ctx.editable) return <p class="notice" role="status">This answer can no longer be changed (a reviewer has decided the item).</p>;
  const save = async (e: Event) => {
    e.preventDefault();
    const problem = answerProblem(project.label_schema, answer);
    if (problem) return setMessage(problem);
    try {
      await api("POST", `/api/projects/${project.id}/answers/${answerId}/revisions`,
        { value: cleanAnswer(project.label_schema, answer) }, { "Idempotency-Key": key });
      onDone();
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  return (
    <form class="card revision" onSubmit={save} aria-label={`edit your answer to item ${ctx.item.external_id}`}>
      <QuestionsForm schema={project.label_schema} data={ctx.item.data} meta={ctx.item.meta} answer={answer}
        setAnswer={(q, v) => setAnswer({ ...answer, [q]: v })} active={active} setActive={setActive}
        ui={ui} setUi={(q, u) => setUi({ ...ui, [q]: u })} suggested={new Set()} />
      <div class="buttons">
        <button type="submit" class="primary">Save the corrected answer</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </div>
      <p class="message" role="status">{message}</p>
    </form>
  );
}

export function History({ me, projectId }: { me: User; projectId: number }) {
  // Every answer loaded so far, newest first; older pages are fetched on demand.
  const [loaded, setLoaded] = useState<StoredAnswer[] | null>(null);
  const [more, setMore] = useState(false);
  const [project, setProject] = useState<Project | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    ownAnswers(projectId, me.id, null)
      .then((page) => {
        setLoaded(page);
        setMore(page.length === PAGE);
      })
      .catch((e) => setError(errorText(e)));
  const older = () => {
    const oldest = Math.min(...(loaded ?? []).map((a) => a.id));
    ownAnswers(projectId, me.id, oldest)
      .then((page) => {
        setLoaded([...(loaded ?? []), ...page]);
        setMore(page.length === PAGE);
      })
      .catch((e) => setError(errorText(e)));
  };
  useEffect(() => {
    void load();
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
  }, [projectId]);
  const answers = loaded && latestPerItem(loaded);
  return (
    <main class="history">
      <div class="bar">
        <h1>My recent answers</h1>
        <a class="button primary" href={`#/p/${projectId}/label`}>Back to labelling</a>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {answers && answers.length === 0 && <p>No answers yet.</p>}
      {answers && project && answers.length > 0 && (
        <table class="data">
          <thead>
            <tr><th scope="col">Item</th><th scope="col">Answer</th><th scope="col">When</th><th scope="col"><span class="visually-hidden">Edit</span></th></tr>
          </thead>
          <tbody>
            {answers.map((a) => (
              <>
                <tr data-answer={a.id}>
                  <td>{String(a.item_id)}</td>
                  {/* the schema's labels (this list has no item text: spans give their characters) */}
                  <td class="answer" title={answerText(a.value)}>
                    {answerLabels(project.label_schema, a.value)}
                  </td>
                  <td>{when(a.created_at)}</td>
                  <td>
                    <button type="button" class="link" aria-label={`edit answer to item ${a.item_id}`}
                      onClick={() => setEditing(editing === a.id ? null : a.id)}>edit</button>
                  </td>
                </tr>
                {editing === a.id && (
                  <tr>
                    <td colSpan={4}>
                      <Editor project={project} answerId={a.id} onDone={() => {
                        setEditing(null);
                        void load();
                      }} />
                    </td>
                  </tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      )}
      {more && <button type="button" onClick={older}>Show older answers</button>}
    </main>
  );
}
