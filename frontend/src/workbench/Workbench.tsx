/** The annotator's page: one item at a time, keyboard first, and no answer ever lost. */

import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import { api, errorText, retrying } from "../api";
import { newKey } from "../ids";
import { formKey, inTextField } from "../questions/keys";
import { answerProblem, cleanAnswer, QuestionsForm } from "../questions/form";
import type { QuestionUi } from "../questions/kind";
import type { Answer, LabelSchema, Project, Task, User } from "../types";
import { TaskFeed } from "./feed";
import { Help } from "./Help";
import { outboxFor } from "./outbox";
import { Pending } from "./Pending";

interface Editing {
  itemId: number | null;
  answer: Answer;
  suggested: Set<string>;
  /** Earlier states, the question that was active included, for undo. */
  undo: { answer: Answer; suggested: Set<string>; active: number }[];
  active: number;
  /** The active question was chosen on purpose (↓ ↑), not reached by a pick moving on. */
  focusActive: boolean;
  ui: Record<string, QuestionUi>;
  startedAt: number;
}

/** A fresh answer for a task: the model's pre-label as suggestions, empty span lists. */
export function startEditing(schema: LabelSchema, task: Task | null): Editing {
  const answer: Answer = {};
  const suggested = new Set<string>();
  // The model's pre-label from the loop, or one imported with the item (meta.prelabel).
  const prelabel = task?.prelabel?.value ?? task?.meta?.prelabel;
  for (const q of schema.questions) {
    if (q.type === "spans") answer[q.name] = [];
    if (prelabel && typeof prelabel === "object" && q.name in prelabel) {
      answer[q.name] = (prelabel as Record<string, unknown>)[q.name];
      suggested.add(q.name);
    }
  }
  return { itemId: task?.item_id ?? null, answer, suggested, undo: [], active: 0, focusActive: false, ui: {}, startedAt: performance.now() };
}

export function Workbench({ me, projectId }: { me: User; projectId: number }) {
  const outbox = outboxFor(me.id);
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState("");
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const feed = useRef<TaskFeed | null>(null);
  const [edit, setEdit] = useState<Editing>(() => startEditing({ fields: [], questions: [] }, null));
  const [message, setMessage] = useState("");
  const [help, setHelp] = useState(false);
  const schemaRef = useRef<LabelSchema | null>(null);
  const editRef = useRef(edit);
  editRef.current = edit;

  // The feed and the project load in parallel: the first task is the critical path.
  useEffect(() => {
    const f = new TaskFeed(projectId, outbox, () => {
      if (schemaRef.current && f.current?.item_id !== editRef.current.itemId) {
        setEdit(startEditing(schemaRef.current, f.current));
      }
      rerender(0);
    });
    feed.current = f;
    retrying(() => api<Project>("GET", `/api/projects/${projectId}`))
      .then((p) => {
        schemaRef.current = p.label_schema;
        setEdit(startEditing(p.label_schema, f.current));
        setProject(p);
      })
      .catch((e) => setError(errorText(e)));
    void outbox.flush();
    void f.fill();
    const unsubscribe = outbox.subscribe(() => {
      rerender(0);
      if (f.phase === "waiting") void f.fill();
      else f.prefetch();
    });
    return () => {
      f.close();
      unsubscribe();
    };
  }, [projectId]);

  // Keep the leases of the shown and the prefetched item alive while the page is open.
  useEffect(() => {
    if (!project) return;
    const every = Math.min(120_000, Math.max(1_000, (project.lease_seconds * 1000) / 3));
    const timer = setInterval(() => {
      for (const id of feed.current?.leasedItems() ?? []) {
        api("POST", `/api/projects/${projectId}/items/${id}/lease`).catch(() => undefined);
      }
    }, every);
    return () => clearInterval(timer);
  }, [project]);

  const change = (question: string, value: unknown) => {
    setEdit((e) => {
      const suggested = new Set(e.suggested);
      suggested.delete(question);
      return {
        ...e,
        undo: [...e.undo, { answer: e.answer, suggested: e.suggested, active: e.active }],
        answer: { ...e.answer, [question]: value },
        suggested,
      };
    });
  };

  const undo = () =>
    setEdit((e) => {
      const last = e.undo[e.undo.length - 1];
      return last ? { ...e, ...last, focusActive: false, undo: e.undo.slice(0, -1) } : e;
    });

  const submit = () => {
    const f = feed.current;
    const task = f?.current;
    if (!f || !task || !project) return;
    const e = editRef.current;
    const problem = answerProblem(project.label_schema, e.answer);
    if (problem) {
      setMessage(problem);
      return;
    }
    setMessage("");
    outbox.add({
      key: newKey(),
      projectId,
      itemId: task.item_id,
      value: cleanAnswer(project.label_schema, e.answer),
      durationMs: Math.round(performance.now() - e.startedAt),
    });
    void f.advance();
  };

  const skip = () => {
    const f = feed.current;
    const task = f?.current;
    if (!f || !task) return;
    api("POST", `/api/projects/${projectId}/items/${task.item_id}/skip`, {})
      .then(() => f.advance())
      .catch((err) => setMessage(`Could not skip: ${errorText(err)}`));
  };

  const setActive = (i: number, focus = false) =>
    setEdit((e) => (e.active === i && e.focusActive === focus ? e : { ...e, active: i, focusActive: focus }));

  const onKey = (e: KeyboardEvent) => {
    if (help) {
      if (e.key === "Escape" || e.key === "?") {
        e.preventDefault();
        setHelp(false);
      }
      return;
    }
    const schema = schemaRef.current;
    if (!schema || e.altKey || e.metaKey) return;
    const target = document.activeElement;
    if (inTextField(target)) {
      if (e.key === "Enter" && e.ctrlKey) {
        e.preventDefault();
        submit();
      } else if (e.key === "Escape") {
        (target as HTMLElement).blur();
      }
      return;
    }
    const handled = () => e.preventDefault();
    if (e.key === "?") return handled(), setHelp(true);
    if (e.key === "Enter") return handled(), e.shiftKey ? skip() : submit();
    if (e.key === "Backspace" || (e.ctrlKey && e.key === "z")) return handled(), undo();
    const used = formKey(schema, e, editRef.current, feed.current?.current?.data ?? {}, {
      change,
      setUi: (q, u) => setEdit((ed) => ({ ...ed, ui: { ...ed.ui, [q]: u } })),
      setActive,
      message: setMessage,
    });
    if (used) handled();
  };
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => onKeyRef.current(e);
    addEventListener("keydown", listener);
    return () => removeEventListener("keydown", listener);
  }, []);

  const f = feed.current;
  const task = f?.current ?? null;
  const pending = outbox.pending(projectId).length;
  return (
    <main class="workbench" aria-busy={!task && f?.phase === "loading"}>
      <header class="bar">
        <h1>{project?.name ?? "Labelling"}</h1>
        <Pending outbox={outbox} projectId={projectId} />
        <nav class="actions">
          <a href={`#/p/${projectId}/history`}>My answers</a>
          <button type="button" class="link" onClick={() => setHelp(true)} aria-keyshortcuts="?">
            Shortcuts (?)
          </button>
        </nav>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {task && project ? (
        <form
          class="task"
          data-item={task.item_id}
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <QuestionsForm
            schema={project.label_schema}
            data={task.data}
            meta={task.meta}
            answer={edit.answer}
            setAnswer={change}
            active={edit.active}
            focusActive={edit.focusActive}
            setActive={(i) => setActive(i, true)}
            ui={edit.ui}
            setUi={(q, u) => setEdit((ed) => ({ ...ed, ui: { ...ed.ui, [q]: u } }))}
            suggested={edit.suggested}
          />
          <div class="buttons">
            <button type="submit" class="primary" aria-keyshortcuts="Enter">Submit <kbd>Enter</kbd></button>
            <button type="button" onClick={skip} aria-keyshortcuts="Shift+Enter">Skip <kbd>Shift+Enter</kbd></button>
            <button type="button" onClick={undo} disabled={!edit.undo.length} aria-keyshortcuts="Backspace">
              Undo <kbd>Backspace</kbd>
            </button>
          </div>
        </form>
      ) : (
        <section class="state" role="status">
          {!f || f.phase === "loading" ? <p>Loading the next item…</p> : null}
          {f?.phase === "empty" && (
            <p class="done-msg">
              Nothing left for you in this project{pending ? " (your last answers are still being sent)" : ""}.{" "}
              <button type="button" class="link" onClick={() => void f.fill()}>Check again</button>
            </p>
          )}
          {f?.phase === "waiting" && (
            <p>Waiting for your {pending} pending answer{pending === 1 ? "" : "s"} to reach the server before the next item…</p>
          )}
          {f?.phase === "offline" && <p>The server cannot be reached; trying again…</p>}
          {f?.phase === "error" && <p class="error">{f.error}</p>}
        </section>
      )}
      <p class="message" role="status" aria-live="polite">{message}</p>
      {help && <Help onClose={() => setHelp(false)} />}
    </main>
  );
}
