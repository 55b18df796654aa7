/**
 * An item and its questions, rendered from the project's schema: the workbench and the
 * schema editor's live preview use this same component.
 */

import type { ComponentChildren } from "preact";
import type { Answer, FieldSpec, LabelSchema, Question } from "../types";
import { feedbackField } from "../feedback/Panes";
import { ItemView } from "../itemView";
import { title, type OtherValue, type QuestionUi, type ViewProps } from "./kind";
import { kindOf } from "./registry";

export interface FormProps {
  schema: LabelSchema;
  data: Record<string, unknown>;
  meta?: Record<string, unknown>;
  answer: Answer;
  setAnswer: (question: string, value: unknown) => void;
  active: number;
  /** Whether the active question was moved to on purpose (so a text field may take the focus). */
  focusActive?: boolean;
  setActive: (i: number) => void;
  ui: Record<string, QuestionUi>;
  setUi: (question: string, ui: QuestionUi) => void;
  suggested: ReadonlySet<string>;
  /** Per question, other values to show beside the answer (kind.ts: OtherValue). */
  others?: Record<string, OtherValue[]>;
  /** The item on screen. */
  itemId?: number;
  /** Shown between the item and its questions (the review queue puts the answers there). */
  between?: ComponentChildren;
}

/**
 * For each field that a question works on (a spans question's text), the question whose own
 * view takes the field's place in the item: the active one if several share the field.
 */
function fieldOwners(p: FormProps): Map<string, number> {
  const owners = new Map<string, number>();
  const fields = new Set(p.schema.fields.map((f) => f.name));
  p.schema.questions.forEach((q, i) => {
    if (!q.target || !fields.has(q.target) || !kindOf(q)?.Target) return;
    // A question that holds its field (a video's tracks: the player and what is drawn on it) keeps
    // it whichever question is active.
    const holds = (j: number) => !!kindOf(p.schema.questions[j]!)?.holdsTarget;
    const owner = owners.get(q.target);
    if (owner === undefined || (!holds(owner) && (i === p.active || holds(i)))) owners.set(q.target, i);
  });
  return owners;
}

export function QuestionsForm(p: FormProps) {
  const owners = fieldOwners(p);
  const viewProps = (q: Question, i: number): ViewProps => ({
    q,
    value: p.answer[q.name],
    set: (v) => p.setAnswer(q.name, v),
    active: i === p.active,
    focus: i === p.active && !!p.focusActive,
    activate: () => p.setActive(i),
    data: p.data,
    ui: p.ui[q.name] ?? {},
    setUi: (u) => p.setUi(q.name, u),
    suggested: p.suggested.has(q.name),
    others: p.others?.[q.name],
    itemId: p.itemId,
  });
  const targetOf = (field: FieldSpec) => {
    const i = owners.get(field.name);
    if (i === undefined) return undefined;
    const q = p.schema.questions[i]!;
    const Target = kindOf(q)!.Target!;
    return <Target {...viewProps(q, i)} />;
  };
  return (
    <div class="form">
      {p.schema.title && <h2 class="schema-title">{p.schema.title}</h2>}
      {p.schema.instructions && (
        <details class="instructions">
          <summary>Instructions</summary>
          <p>{p.schema.instructions}</p>
        </details>
      )}
      <ItemView fields={p.schema.fields} data={p.data} meta={p.meta}
        content={(f) => targetOf(f) ?? feedbackField(p.schema, f, p.data)} />
      {p.between}
      {p.schema.questions.map((q, i) => {
        const kind = kindOf(q);
        const id = `q-${q.name}`;
        const suggested = p.suggested.has(q.name);
        const cls = ["question", i === p.active ? "active" : "", suggested ? "suggested" : ""].join(" ");
        // A target that is not one of the item's fields (a schema still being written) is shown here.
        const ownTarget = !!kind?.Target && !(q.target && owners.has(q.target));
        return (
          <fieldset class={cls} aria-labelledby={id} onFocusIn={() => p.setActive(i)} data-question={q.name}>
            <legend id={id}>
              {title(q)}
              {q.required === false && <span class="optional"> (optional)</span>}
              {suggested && <span class="badge model" title="A model's suggestion: change it or accept it">model suggestion</span>}
            </legend>
            {q.help && <p class="help">{q.help}</p>}
            {kind ? (
              <>
                {ownTarget && kind.Target && <kind.Target {...viewProps(q, i)} />}
                <kind.View {...viewProps(q, i)} />
              </>
            ) : (
              <p class="notice">This page cannot show questions of type “{q.type}” yet.</p>
            )}
          </fieldset>
        );
      })}
    </div>
  );
}

/** Why the answer cannot be submitted yet, or null. */
export function answerProblem(schema: LabelSchema, answer: Answer): string | null {
  for (const q of schema.questions) {
    const kind = kindOf(q);
    const v = answer[q.name];
    const given = kind?.given ? kind.given(v) : v !== undefined && v !== null;
    if (!given) {
      if (q.required !== false) return `“${title(q)}” needs an answer`;
      continue;
    }
    const problem = kind?.problem(q, v);
    if (problem) return `“${title(q)}”: ${problem}`;
  }
  return null;
}

/**
 * The answer to submit: only the questions that were answered (a value begun but not given, such
 * as a preference's reason typed before the pick, stays out).
 */
export function cleanAnswer(schema: LabelSchema, answer: Answer): Answer {
  const out: Answer = {};
  for (const q of schema.questions) {
    const v = answer[q.name];
    const given = kindOf(q)?.given;
    if (v !== undefined && v !== null && (!given || given(v))) out[q.name] = v;
  }
  return out;
}
