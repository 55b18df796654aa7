/**
 * Flagged words in a response (docs/feedback.md): the `spans` widget itself (spans.tsx: mouse
 * selection snapped to words, the keyboard caret, label keys, overlap rules), run over one
 * response's text. The value is `{"response": id, "spans": [...]}`, offsets into that response's
 * `content`. < > pick another response (the answer about the last one goes; undo brings it back);
 * 0 says there is nothing to flag in the response on screen.
 */

import { CandidatePanes } from "../feedback/Panes";
import { lastShown, rememberShown, shownFor, type Shown } from "../feedback/candidates";
import type { ResponseSpansQuestion, SpanLabel, SpansQuestion } from "../types";
import { title, type Kind, type KeyResult, type QuestionUi, type ViewProps } from "./kind";
import { selectedResponse, stepResponse } from "./rewrite";
import { spans as spansKind, type Span } from "./spans";

/** The name under which the response's text is handed to the spans widget. */
const TEXT = "response";

export interface ResponseSpansValue {
  response: string;
  spans: Span[];
}

export function asResponseSpans(value: unknown): ResponseSpansValue | null {
  const v = value as Partial<ResponseSpansValue> | null | undefined;
  return v && typeof v.response === "string" && Array.isArray(v.spans) ? (v as ResponseSpansValue) : null;
}

export function spanLabels(q: ResponseSpansQuestion): SpanLabel[] {
  return q.labels.map((l) => (typeof l === "string" ? { value: l } : l));
}

/** The spans question this one is, over the text of one response. */
function asSpans(q: ResponseSpansQuestion): SpansQuestion {
  return {
    type: "spans", name: q.name, label: q.label ?? q.name, target: TEXT,
    labels: spanLabels(q), allow_overlap: !!q.allow_overlap,
  };
}

function spansData(at: Shown | null): Record<string, unknown> {
  return { [TEXT]: at?.candidate.content ?? "" };
}

/** The spans on `at` (none when the value is about another response). */
function spansOn(value: unknown, at: Shown | null): Span[] {
  const v = asResponseSpans(value);
  return v && at && v.response === at.candidate.id ? v.spans : [];
}

/** The props the spans widget gets: its value and data are those of the response on screen. */
function inner(p: ViewProps<ResponseSpansQuestion>, shown: Shown[]): ViewProps<SpansQuestion> {
  const at = selectedResponse(shown, p.value, p.ui);
  return {
    ...p,
    q: asSpans(p.q),
    value: spansOn(p.value, at),
    data: spansData(at),
    set: (s) => at && p.set({ response: at.candidate.id, spans: Array.isArray(s) ? s : [] }),
  };
}

function Target(p: ViewProps<ResponseSpansQuestion>) {
  const { shown } = shownFor(p.data, p.q.target);
  const at = selectedResponse(shown, p.value, p.ui);
  const SpanText = spansKind.Target!;
  const count = spansOn(p.value, at).length;
  return (
    <CandidatePanes panes={shown.map((s) => s === at
      ? { shown: s, mark: "selected" as const, note: count ? `${count} flagged` : "select words to flag", body: <SpanText {...inner(p, shown)} /> }
      : {
        shown: s,
        onClick: () => {
          p.activate();
          p.setUi({ ...p.ui, response: s.candidate.id, caret: undefined, anchor: null });
        },
      })} />
  );
}

function View(p: ViewProps<ResponseSpansQuestion>) {
  const { shown } = shownFor(p.data, p.q.target);
  rememberShown(p.q, shown);
  const at = selectedResponse(shown, p.value, p.ui);
  const SpansView = spansKind.View;
  if (!at) return <p class="notice">This item has no response to flag.</p>;
  const none = asResponseSpans(p.value);
  const pick = (s: Shown) => {
    p.setUi({ ...p.ui, response: s.candidate.id, caret: undefined, anchor: null, notice: "" });
    if (asResponseSpans(p.value) && s !== at) p.set(undefined);
  };
  return (
    <div class="response-spans">
      {shown.length > 1 && (
        <div class="options" role="radiogroup" aria-label={`${title(p.q)}: response to flag`}>
          {shown.map((s) => (
            <button type="button" role="radio" aria-checked={s === at} class={s === at ? "option on" : "option"}
              onClick={() => pick(s)}>
              {`Response ${s.letter}`}
            </button>
          ))}
        </div>
      )}
      <button type="button" class={none && !none.spans.length ? "option on" : "option"} aria-pressed={!!none && !none.spans.length}
        onClick={() => p.set({ response: at.candidate.id, spans: [] })}>
        <kbd aria-hidden="true">0</kbd>
        <span>{`Nothing to flag in Response ${at.letter}`}</span>
      </button>
      <SpansView {...inner(p, shown)} />
    </div>
  );
}

function onKey(
  q: ResponseSpansQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
): KeyResult | null {
  const { shown } = shownFor(data, q.target);
  const at = selectedResponse(shown, value, ui);
  if (!at) return null;
  if (active) {
    const next = stepResponse(shown, at, key);
    if (next) {
      const moved = { ui: { ...ui, response: next.candidate.id, caret: undefined, anchor: null, notice: "" } };
      const had = asResponseSpans(value);
      // The answer was about the other response: it goes (null, since undefined means "no change"
      // to the form), and Backspace brings it back.
      if (!had) return moved;
      return { ...moved, value: null, message: had.spans.length ? `Flags on Response ${at.letter} dropped (Backspace brings them back).` : "" };
    }
    if (key === "0") return { value: { response: at.candidate.id, spans: [] }, ui: { ...ui, notice: `Nothing to flag in Response ${at.letter}.` } };
  }
  const r = spansKind.onKey!(asSpans(q), spansOn(value, at), key, active, ui, spansData(at));
  if (!r) return null;
  const out: KeyResult = { ...r };
  if (r.value !== undefined) out.value = { response: at.candidate.id, spans: Array.isArray(r.value) ? r.value : [] };
  return out;
}

export const responseSpans: Kind<ResponseSpansQuestion> = {
  View,
  Target,
  onKey,
  problem(q, value) {
    const v = asResponseSpans(value);
    if (!v) return null;
    if (q.max_spans && v.spans.length > q.max_spans) return `at most ${q.max_spans} spans`;
    const shown = lastShown(q);
    if (shown && !shown.some((s) => s.candidate.id === v.response)) return "the response flagged is not one of this item's";
    return null;
  },
  given: (value) => asResponseSpans(value) !== null,
};
