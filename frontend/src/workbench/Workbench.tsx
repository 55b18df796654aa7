/** The annotator's page: one item at a time, keyboard first, and no answer ever lost. */

import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import { api, errorText, retrying } from "../api";
import { newKey } from "../ids";
import { formKey, inTextField } from "../questions/keys";
import { answerProblem, cleanAnswer, QuestionsForm } from "../questions/form";
import { emptyValue } from "../questions/registry";
import type { QuestionUi } from "../questions/kind";
import type { Answer, LabelSchema, Lease, Prelabel, Project, Task, User } from "../types";
import { TaskFeed } from "./feed";
import { Help } from "./Help";
import { outboxFor, type Draft } from "./outbox";
import { Pending } from "./Pending";
import { ProgressCount, progressText } from "./progress";
import {
  applyKeyFree, isApplyKey, stillSuggested, suggestedValues, suggestionLayers, suggestionOf, SuggestionHint,
  type Suggestion,
} from "./suggestion";

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
  /** The active question was reached by auto-advance and nothing happened since (↓ stays on it). */
  advanced?: boolean;
  /** Changed by the annotator since it was shown (so worth keeping as a draft). */
  edited?: boolean;
  /** Brought back from a draft (a reload, or the item came back). */
  restored?: boolean;
  /** The suggestion shown with the item (its version goes back with the answer). */
  suggestion: Suggestion | null;
}

/**
 * A fresh answer for a task: empty span lists, and the suggestion (suggestion.tsx) shown beside
 * the questions, or pre-filled as marked values when the project pre-selects suggestions.
 */
export function startEditing(schema: LabelSchema, task: Task | null, preselect = false): Editing {
  const answer: Answer = {};
  const suggested = new Set<string>();
  for (const q of schema.questions) if (emptyValue(q) !== undefined) answer[q.name] = emptyValue(q);
  const suggestion = suggestionOf(task);
  if (suggestion && preselect) {
    for (const [q, v] of Object.entries(suggestedValues(schema, suggestion))) {
      answer[q] = v;
      suggested.add(q);
    }
  }
  return { itemId: task?.item_id ?? null, answer, suggested, undo: [], active: 0, focusActive: false, ui: {}, startedAt: performance.now(), suggestion };
}

/**
 * `startEditing`, then what the annotator had entered before, from a draft: their own values;
 * questions still left to the model's suggestion take the current suggestion.
 */
export function resumeEditing(schema: LabelSchema, task: Task | null, draft: Draft | null, preselect = false): Editing {
  const fresh = startEditing(schema, task, preselect);
  if (!draft) return fresh;
  const stillSuggested = new Set(draft.suggested);
  const answer: Answer = { ...fresh.answer };
  const suggested = new Set<string>();
  for (const q of schema.questions) {
    if (stillSuggested.has(q.name) && fresh.suggested.has(q.name)) suggested.add(q.name);
    else answer[q.name] = draft.value[q.name] ?? emptyValue(q);
  }
  return { ...fresh, answer, suggested, restored: true };
}

export function Workbench({ me, projectId }: { me: User; projectId: number }) {
  const outbox = outboxFor(me.id);
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState("");
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const feed = useRef<TaskFeed | null>(null);
  const progress = useRef<ProgressCount | null>(null);
  const [edit, setEdit] = useState<Editing>(() => startEditing({ fields: [], questions: [] }, null));
  const [message, setMessage] = useState("");
  const [help, setHelp] = useState(false);
  const schemaRef = useRef<LabelSchema | null>(null);
  const preselectRef = useRef(false); // the project pre-fills answers with the suggestion
  const editRef = useRef(edit);
  editRef.current = edit;

  const resume = (schema: LabelSchema, task: Task | null) =>
    resumeEditing(schema, task, task ? outbox.draft(projectId, task.item_id) : null, preselectRef.current);

  // The feed and the project load in parallel: the first task is the critical path.
  useEffect(() => {
    const f = new TaskFeed(projectId, outbox, () => {
      if (schemaRef.current && f.current?.item_id !== editRef.current.itemId) {
        setEdit(resume(schemaRef.current, f.current));
      }
      rerender(0);
    });
    feed.current = f;
    const count = new ProgressCount(projectId, () => rerender(0));
    progress.current = count;
    retrying(() => api<Project>("GET", `/api/projects/${projectId}`))
      .then((p) => {
        schemaRef.current = p.label_schema;
        preselectRef.current = !!p.loop?.preselect;
        setEdit(resume(p.label_schema, f.current));
        setProject(p);
      })
      .catch((e) => setError(errorText(e)));
    void outbox.flush();
    void f.fill();
    count.refresh();
    let pendingBefore = outbox.pending(projectId).length;
    const unsubscribe = outbox.subscribe(() => {
      rerender(0);
      if (f.phase === "waiting") void f.fill();
      else f.prefetch();
      // An answer left the outbox (stored, or refused): the count has changed.
      const pendingNow = outbox.pending(projectId).length;
      if (pendingNow < pendingBefore) count.refresh();
      pendingBefore = pendingNow;
    });
    return () => {
      f.close();
      count.close();
      unsubscribe();
    };
  }, [projectId]);

  // Whatever the annotator entered survives a reload until it is submitted or skipped. Effects
  // run late (after the paint): a key pressed just before Enter must not bring back the draft
  // that the submit dropped, so only the item still on screen gets one.
  const saveDraft = (e: Editing) => {
    if (e.itemId === null || !e.edited || feed.current?.current?.item_id !== e.itemId) return;
    outbox.saveDraft(projectId, e.itemId, e.answer, [...e.suggested]);
  };
  useEffect(() => saveDraft(edit), [edit.answer]);
  // A reload or a closed tab right after a keystroke comes before that effect: the page saves
  // what is on screen as it goes (the state is rendered by then; only the effect is late).
  const shown = useRef(edit);
  shown.current = edit;
  useEffect(() => {
    const flush = () => saveDraft(shown.current);
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, [projectId]);

  // Keep the leases of the shown and the prefetched item alive while the page is open.
  useEffect(() => {
    if (!project) return;
    const every = Math.min(120_000, Math.max(1_000, (project.lease_seconds * 1000) / 3));
    const timer = setInterval(() => {
      for (const id of feed.current?.leasedItems() ?? []) {
        api<Lease>("POST", `/api/projects/${projectId}/items/${id}/lease`)
          .then((lease) => newSuggestion(id, lease.prelabel ?? null))
          .catch(() => undefined);
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
        advanced: false,
        edited: true,
      };
    });
  };

  const undo = () =>
    setEdit((e) => {
      const last = e.undo[e.undo.length - 1];
      return last ? { ...e, ...last, focusActive: false, advanced: false, edited: true, undo: e.undo.slice(0, -1) } : e;
    });

  /** Put the suggestion's values into the answer (one key or click; undo takes them out). */
  const applySuggestion = () =>
    setEdit((e) => {
      const schema = schemaRef.current;
      if (!schema || !e.suggestion) return e;
      const values = suggestedValues(schema, e.suggestion);
      return {
        ...e,
        undo: [...e.undo, { answer: e.answer, suggested: e.suggested, active: e.active }],
        answer: { ...e.answer, ...values },
        suggested: new Set([...e.suggested, ...Object.keys(values)]),
        advanced: false,
        edited: true,
      };
    });

  /** A renewed lease brought the item's current suggestion: a round may have ended since. */
  const newSuggestion = (itemId: number, prelabel: Prelabel | null) => {
    const f = feed.current;
    const schema = schemaRef.current;
    if (!f?.setPrelabel(itemId, prelabel) || !schema || f.current?.item_id !== itemId) return;
    const task = f.current;
    setEdit((e) => {
      if (e.itemId !== itemId) return e;
      // Nothing entered yet: start over with the new suggestion. Else the annotator's answer stays.
      if (!e.edited && !e.restored && !e.undo.length) {
        return { ...startEditing(schema, task, preselectRef.current), startedAt: e.startedAt };
      }
      const suggestion = suggestionOf(task);
      return { ...e, suggestion, suggested: stillSuggested(schema, suggestion, e.answer, e.suggested) };
    });
  };

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
      suggestion: e.suggestion?.version ?? null,
    });
    outbox.dropDraft(projectId, task.item_id); // the outbox has the answer itself now
    void f.advance();
  };

  const skip = () => {
    const f = feed.current;
    const task = f?.current;
    if (!f || !task) return;
    api("POST", `/api/projects/${projectId}/items/${task.item_id}/skip`, {})
      .then(() => {
        outbox.dropDraft(projectId, task.item_id);
        progress.current?.refresh();
        return f.advance();
      })
      .catch((err) => setMessage(`Could not skip: ${errorText(err)}`));
  };

  const setActive = (i: number, focus = false, advanced = false) =>
    setEdit((e) =>
      e.active === i && e.focusActive === focus && !!e.advanced === advanced
        ? e : { ...e, active: i, focusActive: focus, advanced });
  const setUi = (q: string, u: QuestionUi) => setEdit((ed) => ({ ...ed, ui: { ...ed.ui, [q]: u }, advanced: false }));

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
      setUi,
      setActive,
      message: setMessage,
    });
    if (used) handled();
    else if (isApplyKey(e) && editRef.current.suggestion && applyKeyFree(schema)) handled(), applySuggestion();
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
  const count = progress.current?.value;
  return (
    <main class="workbench" aria-busy={!task && f?.phase === "loading"}>
      <header class="bar">
        <h1>{project?.name ?? "Labelling"}</h1>
        {count && (
          <p class="my-progress" title="Your own answers in this project, and the items you could still get">
            {progressText(count, pending)}
          </p>
        )}
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
            setUi={setUi}
            suggested={edit.suggested}
            others={suggestionLayers(project.label_schema, edit.suggestion)}
            itemId={task.item_id}
            between={edit.suggestion && (
              <SuggestionHint schema={project.label_schema} suggestion={edit.suggestion} answer={edit.answer}
                data={task.data} onApply={applySuggestion} />
            )}
          />
          {edit.restored && <p class="muted restored">Restored what you had entered for this item before.</p>}
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
      {help && (
        <Help onClose={() => setHelp(false)}
          video={!!project?.label_schema.questions.some((q) => q.type === "video_tracks" || q.type === "video_segments")} />
      )}
    </main>
  );
}
