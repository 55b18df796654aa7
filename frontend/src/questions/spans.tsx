/**
 * Text spans: tag stretches of a text field with labels (entities, phrases).
 *
 * Offsets are Unicode code points into the target text, end exclusive, as Python indexes a
 * string (the server stores them as they are). Selections snap outwards to whole tokens. With
 * the mouse: pick a label (its key, a digit, or [ and ]), then select text. With the keyboard:
 * move with ← →, extend with Shift+← →, and press a label's key to tag the selection, or the
 * word at the caret when nothing is selected. A label key with nothing to tag says so.
 *
 * The text itself is the `Target` view: the form shows it in the item, in the target field's
 * place and under its label; the question shows the labels, what happened, and the spans.
 */

import type { SpanLabel, SpansQuestion } from "../types";
import { digit, title, type Kind, type KeyResult, type QuestionUi, type ViewProps } from "./kind";

export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface Token {
  start: number;
  end: number;
}

const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;

/** Words (letters, digits, marks, _) and single other non-space characters, in code points. */
export function tokenize(text: string): { chars: string[]; tokens: Token[] } {
  const chars = Array.from(text);
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (SPACE.test(c)) {
      i++;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < chars.length && WORD.test(chars[i]!)) i++;
      tokens.push({ start, end: i });
    } else {
      tokens.push({ start: i, end: i + 1 });
      i++;
    }
  }
  return { chars, tokens };
}

function spansOf(value: unknown): Span[] {
  return Array.isArray(value) ? (value as Span[]) : [];
}

function sorted(spans: Span[]): Span[] {
  return [...spans].sort((a, b) => a.start - b.start || a.end - b.end || a.label.localeCompare(b.label));
}

/** The spans with one more, or why it cannot be added. */
export function addSpan(q: SpansQuestion, value: unknown, span: Span): Span[] | string {
  const now = spansOf(value);
  if (now.some((s) => s.start === span.start && s.end === span.end && s.label === span.label)) {
    return "that span is already tagged";
  }
  if (!q.allow_overlap && now.some((s) => s.start < span.end && span.start < s.end)) {
    return "spans may not overlap in this project";
  }
  return sorted([...now, span]);
}

function labelKey(labels: SpanLabel[], i: number): string {
  return labels[i]!.key ?? (i < 9 ? String(i + 1) : "");
}

function labelForKey(labels: SpanLabel[], key: string, active: boolean): number | null {
  const explicit = labels.findIndex((l) => l.key === key);
  if (explicit >= 0) return explicit;
  const n = digit(key);
  return active && n !== null && n <= labels.length && !labels.some((l) => l.key === key) ? n - 1 : null;
}

function targetText(q: SpansQuestion, data: Record<string, unknown>): string {
  const t = data[q.target];
  return typeof t === "string" ? t : "";
}

/** The token range [a, b] covered by the document selection inside `root`, or null. */
function selectedTokens(root: HTMLElement): [number, number] | null {
  const sel = getSelection();
  if (!sel || sel.isCollapsed || sel.rangeCount === 0) return null;
  const range = sel.getRangeAt(0);
  const hit: number[] = [];
  root.querySelectorAll<HTMLElement>("[data-t]").forEach((el) => {
    if (!range.intersectsNode(el)) return;
    const text = el.firstChild;
    // A range that only touches a token's edge does not take it.
    if (range.endContainer === text && range.endOffset === 0) return;
    if (range.startContainer === text && range.startOffset === (text?.textContent ?? "").length) return;
    hit.push(Number(el.dataset.t));
  });
  return hit.length ? [Math.min(...hit), Math.max(...hit)] : null;
}

function labelName(l: SpanLabel): string {
  return l.label || l.value;
}

/** What a tag says to the annotator: the words and the label, as the list shows them. */
function taggedNotice(chars: string[], span: Span, label: SpanLabel): string {
  return `Tagged “${chars.slice(span.start, span.end).join("")}” as ${labelName(label)}.`;
}

function nothingToTag(label: SpanLabel): string {
  return `Nothing to tag: move to a word with ← → (Shift+← → selects several) or select text with the mouse. ` +
    `The next span gets ${labelName(label)}.`;
}

/** The target text, tokenized and marked: tagged spans, the keyboard caret and selection. */
function Target({ q, value, set, data, ui, setUi, suggested, active, activate }: ViewProps<SpansQuestion>) {
  const { chars, tokens } = tokenize(targetText(q, data));
  const spans = spansOf(value);
  const current = ui.label ?? 0;
  const labelIndex = new Map(q.labels.map((l, i) => [l.value, i]));
  const sel = ui.anchor !== undefined && ui.anchor !== null && ui.caret !== undefined
    ? [Math.min(ui.anchor, ui.caret), Math.max(ui.anchor, ui.caret)] : null;

  const onMouseUp = (e: MouseEvent) => {
    activate();
    const range = selectedTokens(e.currentTarget as HTMLElement);
    if (!range) {
      // A click on a word puts the keyboard caret there, so a label key then tags that word.
      const t = (e.target as HTMLElement).closest<HTMLElement>("[data-t]");
      if (t) setUi({ ...ui, caret: Number(t.dataset.t), anchor: null, notice: "" });
      return;
    }
    const label = q.labels[current]!;
    const span = { start: tokens[range[0]]!.start, end: tokens[range[1]]!.end, label: label.value };
    const next = addSpan(q, value, span);
    getSelection()?.removeAllRanges();
    // The mouse chose these words: the keyboard caret steps aside, so that a label key pressed
    // next picks the label for the next selection instead of tagging a word nobody looks at.
    const after = { ...ui, caret: undefined, anchor: null };
    if (typeof next === "string") setUi({ ...after, notice: `Not tagged: ${next}.` });
    else {
      set(next);
      setUi({ ...after, notice: taggedNotice(chars, span, label) });
    }
  };

  const pieces = [];
  let at = 0;
  tokens.forEach((t, i) => {
    if (t.start > at) pieces.push(chars.slice(at, t.start).join(""));
    const covering = spans.filter((s) => s.start < t.end && t.start < s.end);
    const cls = ["tok"];
    if (covering.length) cls.push("tagged", `lab-${(labelIndex.get(covering[0]!.label) ?? 0) % 8}`);
    if (covering.length > 1) cls.push("stacked");
    if (active && ui.caret === i) cls.push("caret");
    if (sel && i >= sel[0] && i <= sel[1]) cls.push("kbd-selected");
    pieces.push(
      <span class={cls.join(" ")} data-t={i} title={covering.map((s) => s.label).join(", ") || undefined}>
        {chars.slice(t.start, t.end).join("")}
      </span>,
    );
    at = t.end;
  });
  if (at < chars.length) pieces.push(chars.slice(at).join(""));

  return (
    <div
      class={suggested ? "span-text suggested" : "span-text"}
      data-question={q.name}
      role="group"
      tabIndex={0}
      onFocus={activate}
      onMouseUp={onMouseUp}
      aria-label={`text to tag for ${title(q)}`}
    >
      {pieces}
    </div>
  );
}

/** The question: the label for the next span, what the last key did, and the tagged spans. */
function View({ q, value, set, data, ui, setUi, suggested }: ViewProps<SpansQuestion>) {
  const chars = Array.from(targetText(q, data));
  const spans = spansOf(value);
  const current = ui.label ?? 0;
  const labelIndex = new Map(q.labels.map((l, i) => [l.value, i]));
  return (
    <div class={suggested ? "spans suggested" : "spans"}>
      <div class="span-labels" role="radiogroup" aria-label={`${title(q)}: label for the next span`}>
        {q.labels.map((l, i) => (
          <button
            type="button"
            role="radio"
            aria-checked={i === current}
            class={`option span-label lab-${i % 8}${i === current ? " on" : ""}`}
            onClick={() => setUi({ ...ui, label: i })}
          >
            {labelKey(q.labels, i) && <kbd aria-hidden="true">{labelKey(q.labels, i)}</kbd>}
            <span>{labelName(l)}</span>
          </button>
        ))}
      </div>
      {/* Always in the page, so that screen readers announce each new notice. */}
      <p class="notice span-notice" role="status" aria-live="polite">{ui.notice ?? ""}</p>
      <ul class="span-list" aria-label={`${title(q)}: tagged spans`}>
        {spans.map((s) => (
          <li>
            <span class={`chip lab-${(labelIndex.get(s.label) ?? 0) % 8}`}>{s.label}</span>{" "}
            <q>{chars.slice(s.start, s.end).join("")}</q>{" "}
            <button
              type="button"
              class="link"
              aria-label={`remove ${s.label} span ${chars.slice(s.start, s.end).join("")}`}
              onClick={() => set(spans.filter((x) => x !== s))}
            >
              remove
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function onKey(
  q: SpansQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
): KeyResult | null {
  const n = q.labels.length;
  const label = ui.label ?? 0;
  if (active && (key === "]" || key === "[")) {
    return { ui: { ...ui, label: (label + (key === "]" ? 1 : n - 1)) % n, notice: "" } };
  }
  const { chars, tokens } = tokenize(targetText(q, data));
  const caret = Math.min(ui.caret ?? -1, tokens.length - 1);
  if (active && tokens.length && /^(Shift\+)?Arrow(Left|Right)$/.test(key)) {
    const step = key.endsWith("Right") ? 1 : -1;
    const moved = Math.max(0, Math.min(tokens.length - 1, caret < 0 ? 0 : caret + step));
    const extend = key.startsWith("Shift+");
    return { ui: { ...ui, caret: moved, anchor: extend ? (ui.anchor ?? Math.max(caret, 0)) : null, notice: "" } };
  }
  if (active && key === "Delete" && caret >= 0) {
    const t = tokens[caret]!;
    return { value: spansOf(value).filter((s) => !(s.start < t.end && t.start < s.end)), ui: { ...ui, notice: "" } };
  }
  const picked = labelForKey(q.labels, key, active);
  if (picked === null) return null;
  const chosen = q.labels[picked]!;
  // Nothing under the caret (or the caret is another question's): the key picks the label for
  // the next selection, and says that nothing was tagged.
  if (!active || caret < 0) return { ui: { ...ui, label: picked, notice: nothingToTag(chosen) } };
  // The keyboard selection, or else the one word at the caret.
  const anchor = ui.anchor ?? caret;
  const [a, b] = [Math.min(anchor, caret), Math.max(anchor, caret)];
  const span = { start: tokens[a]!.start, end: tokens[b]!.end, label: chosen.value };
  const next = addSpan(q, value, span);
  const ui2 = { ...ui, label: picked, anchor: null };
  return typeof next === "string"
    ? { ui: { ...ui2, notice: `Not tagged: ${next}.` } }
    : { value: next, ui: { ...ui2, notice: taggedNotice(chars, span, chosen) } };
}

export const spans: Kind<SpansQuestion> = {
  View,
  Target,
  onKey,
  problem: () => null,
  given: (value) => Array.isArray(value),
  empty: () => [],
};
