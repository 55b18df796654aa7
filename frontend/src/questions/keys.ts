/**
 * The keys a question form understands, shared by every page that shows one (the workbench,
 * the review queue): ↓/↑ between questions, then the active question's own keys, then keys
 * that other questions bind explicitly.
 *
 * Auto-advance: a pick that settles a question (single choice, rating) moves on to the next
 * question by itself. ↓ pressed right after that goes to that same next question (it takes the
 * focus there, e.g. into a text field) rather than the one after it: "↓ next question" means
 * the question after the one just answered, whether or not the page already moved.
 */

import type { Answer, LabelSchema } from "../types";
import type { QuestionUi } from "./kind";
import { kindOf } from "./registry";

export interface FormState {
  answer: Answer;
  active: number;
  ui: Record<string, QuestionUi>;
  /** The active question was reached by auto-advance, and nothing was done since. */
  advanced?: boolean;
}

export interface FormActions {
  change: (question: string, value: unknown) => void;
  setUi: (question: string, ui: QuestionUi) => void;
  /**
   * `focus`: the annotator moved there on purpose (a text field may take the focus).
   * `advanced`: a pick moved there by itself (auto-advance); pages that keep it in `FormState`
   * make ↓ right after it stay on this question. Any other change should clear it.
   */
  setActive: (i: number, focus?: boolean, advanced?: boolean) => void;
  message: (text: string) => void;
}

export function inTextField(el: Element | null): boolean {
  return !!el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && (el as HTMLInputElement).type === "text"));
}

/** Apply a key press to the form; true when the key meant something (the caller prevents its default). */
export function formKey(
  schema: LabelSchema, e: KeyboardEvent, cur: FormState, data: Record<string, unknown>, act: FormActions,
): boolean {
  if (e.ctrlKey || e.altKey || e.metaKey) return false;
  const n = schema.questions.length;
  if (!n) return false;
  if (e.key === "ArrowDown" && cur.advanced) {
    act.setActive(cur.active, true); // already on the next question: ↓ confirms it
    return true;
  }
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    act.setActive((cur.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n, true);
    return true;
  }
  const name = e.shiftKey && e.key.length > 1 ? `Shift+${e.key}` : e.key;
  const order = [cur.active, ...schema.questions.map((_, i) => i).filter((i) => i !== cur.active)];
  for (const i of order) {
    const q = schema.questions[i]!;
    const r = kindOf(q)?.onKey?.(q, cur.answer[q.name], name, i === cur.active, cur.ui[q.name] ?? {}, data);
    if (!r) continue;
    if (r.value !== undefined) act.change(q.name, r.value);
    if (r.ui) act.setUi(q.name, r.ui);
    act.message(r.message ?? "");
    if (r.advance) act.setActive(Math.min(i + 1, n - 1), false, i + 1 < n);
    else if (i !== cur.active) act.setActive(i);
    return true;
  }
  return false;
}
