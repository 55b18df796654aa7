/**
 * The review queue: one disputed item at a time, with why it is there and every answer side by
 * side; the reviewer decides it with the same question renderer as the workbench (the decision is final and
 * becomes the item's consensus) or skips to the next one. Keyboard first. Shape questions draw
 * every answer on the image under the decision, one colour per person, with a legend; audio segments
 * questions show each person's segments and transcripts in a lane of their own under the waveform.
 */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api, errorText } from "../api";
import { newKey } from "../ids";
import { answerProblem, cleanAnswer, QuestionsForm } from "../questions/form";
import type { QuestionUi } from "../questions/kind";
import { formKey, inTextField } from "../questions/keys";
import { emptyValue } from "../questions/registry";
import { routeQuery, setRouteQuery } from "../router";
import type { Answer, Item, ItemDetail, LabelSchema, Project, Slice } from "../types";
import { RevealSection } from "../console/Privacy";
import { AnswerCards, reviewLayers } from "./Answers";
import { ReviewReasons } from "./Reasons";

interface Decision {
  answer: Answer;
  active: number;
  focusActive: boolean;
  ui: Record<string, QuestionUi>;
  key: string;
}

function fresh(schema: LabelSchema, from: Answer = {}): Decision {
  const answer: Answer = {};
  for (const q of schema.questions) {
    if (emptyValue(q) !== undefined) answer[q.name] = emptyValue(q);
    if (q.name in from) answer[q.name] = structuredClone(from[q.name]);
  }
  return { answer, active: 0, focusActive: false, ui: {}, key: newKey("review") };
}

/**
 * The next item waiting for review after `after` (item ids ascend), or, past the last one,
 * the oldest again (GET review/next): a skipped item comes back once the others were seen.
 */
async function nextPending(projectId: number, after: number | null, slice: string): Promise<ItemDetail | null> {
  const only = slice ? `&slice=${encodeURIComponent(slice)}` : "";
  if (after !== null) {
    const [next] = await api<Item[]>("GET", `/api/projects/${projectId}/items?review=pending&after=${after}&limit=1${only}`);
    if (next) return api<ItemDetail>("GET", `/api/projects/${projectId}/items/${next.id}`);
  }
  return api<ItemDetail | null>("GET", `/api/projects/${projectId}/review/next${slice ? `?slice=${encodeURIComponent(slice)}` : ""}`);
}

const KEYS: [string, string][] = [
  ["1 – 9", "pick an option of the active question"],
  ["↓ / ↑", "next / previous question"],
  ["Enter", "decide (final)"],
  ["Shift+Enter", "skip to the next item"],
];

export function Review({ projectId }: { projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [current, setCurrent] = useState<ItemDetail | null>(null);
  const [phase, setPhase] = useState<"loading" | "shown" | "empty">("loading");
  const [decision, setDecision] = useState<Decision>(() => fresh({ fields: [], questions: [] }));
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const [decided, setDecided] = useState(0);
  // A saved slice narrows the queue to its items (`?slice=<id>`; docs/curation.md, "Slices").
  const [slice, setSlice] = useState(() => routeQuery().get("slice") ?? "");
  const [slices, setSlices] = useState<Slice[]>([]);
  const busy = useRef(false);
  // Everyone's objects, drawn under the decision; one set per item, so the canvas keeps them.
  const others = useMemo(() => (current && project ? reviewLayers(project.label_schema, current) : undefined),
    [current, project]);

  const show = (d: ItemDetail | null, schema: LabelSchema) => {
    setCurrent(d);
    setDecision(fresh(schema));
    setPhase(d ? "shown" : "empty");
  };

  useEffect(() => {
    api<Slice[]>("GET", `/api/projects/${projectId}/slices`).then(setSlices).catch(() => undefined);
    Promise.all([
      api<Project>("GET", `/api/projects/${projectId}`),
      nextPending(projectId, null, slice),
    ])
      .then(([p, d]) => {
        setProject(p);
        show(d, p.label_schema);
      })
      .catch((e) => setError(errorText(e)));
  }, [projectId]);

  const move = async (after: number | null, note: string, only: string = slice) => {
    if (!project || busy.current) return;
    busy.current = true;
    try {
      const d = await nextPending(projectId, after, only);
      show(d, project.label_schema);
      setMessage(d && after !== null && d.item.id === after ? `${note} This is the only item waiting for review.` : note);
    } catch (e) {
      setMessage(errorText(e));
    } finally {
      busy.current = false;
    }
  };

  const decide = async () => {
    if (!project || !current || busy.current) return;
    const problem = answerProblem(project.label_schema, decision.answer);
    if (problem) return setMessage(problem);
    const item = current.item;
    busy.current = true;
    try {
      await api("POST", `/api/projects/${projectId}/items/${item.id}/review`,
        { value: cleanAnswer(project.label_schema, decision.answer) }, { "Idempotency-Key": decision.key });
      setDecided((n) => n + 1);
      busy.current = false;
      await move(item.id, `Decided item ${item.external_id}.`);
    } catch (e) {
      busy.current = false;
      if (e instanceof ApiError && e.status === 409) await move(item.id, `Item ${item.external_id} was already decided by someone else.`);
      else setMessage(`Could not decide: ${errorText(e)}`);
    }
  };
  const skip = () => {
    if (current) void move(current.item.id, `Skipped item ${current.item.external_id}.`);
  };

  // `advanced` remembers an auto-advance, so ↓ right after it stays (as on the workbench).
  const change = (q: string, v: unknown) =>
    setDecision((d) => ({ ...d, answer: { ...d.answer, [q]: v }, advanced: false }));
  const setActive = (i: number, focus = false, advanced = false) =>
    setDecision((d) => ({ ...d, active: i, focusActive: focus, advanced }));

  const onKey = (e: KeyboardEvent) => {
    if (!project || phase !== "shown") return;
    const target = document.activeElement;
    if (inTextField(target)) {
      if (e.key === "Enter" && e.ctrlKey) {
        e.preventDefault();
        void decide();
      } else if (e.key === "Escape") (target as HTMLElement).blur();
      return;
    }
    // Buttons and links keep Enter for themselves; elsewhere it decides.
    const onControl = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
    if (e.key === "Enter" && !e.ctrlKey && !e.altKey && !e.metaKey && (!onControl || target.closest(".question"))) {
      e.preventDefault();
      return e.shiftKey ? skip() : void decide();
    }
    const used = formKey(project.label_schema, e, decision, current?.item.data ?? {}, {
      change,
      setUi: (q, u) => setDecision((d) => ({ ...d, ui: { ...d.ui, [q]: u }, advanced: false })),
      setActive,
      message: setMessage,
    });
    if (used) e.preventDefault();
  };
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => onKeyRef.current(e);
    addEventListener("keydown", listener);
    return () => removeEventListener("keydown", listener);
  }, []);

  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  return (
    <main class="review" aria-busy={phase === "loading"}>
      <div class="bar">
        <h1>{`Review${project ? `: ${project.name}` : ""}`}</h1>
        {decided > 0 && <p class="pending saved">{`${decided} decided`}</p>}
        {slices.length > 0 && (
          <label class="review-slice">Slice{" "}
            <select value={slice} onChange={(e) => {
              const chosen = e.currentTarget.value;
              setSlice(chosen);
              const q = routeQuery();
              if (chosen) q.set("slice", chosen); else q.delete("slice");
              setRouteQuery(q);
              void move(null, "", chosen);
            }}>
              <option value="">every item</option>
              {slices.map((s) => <option value={String(s.id)}>{s.name}</option>)}
            </select>
          </label>
        )}
        <a class="button" href="#/">Projects</a>
      </div>
      <p class="keys muted">
        {KEYS.map(([k, what]) => <span><kbd>{k}</kbd>{` ${what} `}</span>)}
      </p>
      {phase === "loading" && <p role="status">Loading…</p>}
      {phase === "empty" && (
        <p class="done-msg" role="status">
          Nothing waits for review.{" "}
          <button type="button" class="link" onClick={() => void move(null, "")}>Check again</button>
        </p>
      )}
      {phase === "shown" && current && project && (
        <form class="task review-task" data-item={current.item.id} aria-label={`review of item ${current.item.external_id}`}
          onSubmit={(e) => {
            e.preventDefault();
            void decide();
          }}>
          <p class="muted">{`Item ${current.item.external_id} · ${current.item.answer_count} of ${current.item.needed} answers`}</p>
          <ReviewReasons project={project} item={current.item} answers={current.answers} />
          <QuestionsForm schema={project.label_schema} data={current.item.data} meta={current.item.meta}
            answer={decision.answer} setAnswer={change} active={decision.active} focusActive={decision.focusActive}
            setActive={(i) => setActive(i, true)} ui={decision.ui}
            setUi={(q, u) => setDecision((d) => ({ ...d, ui: { ...d.ui, [q]: u } }))} suggested={new Set()}
            others={others} itemId={current.item.id}
            between={<AnswerCards schema={project.label_schema} item={current.item} answers={current.answers}
              onUse={(v) => {
                setDecision({ ...fresh(project.label_schema, v), key: decision.key });
                // The keys go back to the form (Enter decides, digits change the copy).
                (document.activeElement as HTMLElement | null)?.blur();
              }} />} />
          <div class="buttons">
            <button type="submit" class="primary" aria-keyshortcuts="Enter">Decide <kbd>Enter</kbd></button>
            <button type="button" onClick={skip} aria-keyshortcuts="Shift+Enter">Skip <kbd>Shift+Enter</kbd></button>
          </div>
        </form>
      )}
      {phase === "shown" && current && project && (
        <RevealSection key={current.item.id} projectId={projectId} itemId={current.item.id}
          fields={project.label_schema.fields} />
      )}
      <p class="message" role="status" aria-live="polite">{message}</p>
    </main>
  );
}
