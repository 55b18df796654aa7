/**
 * Text spans: tag stretches of a text field with labels (entities, phrases).
 *
 * Offsets are Unicode code points into the target text, end exclusive, as Python indexes a
 * string (the server stores them as they are). Selections snap outwards to whole tokens. With
 * the mouse: pick a label (its key, a digit, or [ and ]), then select text. With the keyboard:
 * move with ← →, extend with Shift+← →, and press a label's key to tag the selection.
 */

import { useState } from "preact/hooks";
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

function View({ q, value, set, data, ui, setUi, suggested, active, activate }: ViewProps<SpansQuestion>) {
  const [message, setMessage] = useState("");
  const { chars, tokens } = tokenize(targetText(q, data));
  const spans = spansOf(value);
  const current = ui.label ?? 0;
  const labelIndex = new Map(q.labels.map((l, i) => [l.value, i]));
  const sel = ui.anchor !== undefined && ui.anchor !== null && ui.caret !== undefined
    ? [Math.min(ui.anchor, ui.caret), Math.max(ui.anchor, ui.caret)] : null;

  const onMouseUp = (e: MouseEvent) => {
    activate();
    const range = selectedTokens(e.currentTarget as HTMLElement);
    if (!range) return;
    const span = { start: tokens[range[0]]!.start, end: tokens[range[1]]!.end, label: q.labels[current]!.value };
    const next = addSpan(q, value, span);
    getSelection()?.removeAllRanges();
    if (typeof next === "string") setMessage(next);
    else {
      setMessage("");
      set(next);
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
            <span>{l.label || l.value}</span>
          </button>
        ))}
      </div>
      <div class="span-text" onMouseUp={onMouseUp} aria-label={`text to tag for ${title(q)}`}>
        {pieces}
      </div>
      {message && <p class="notice" role="status">{message}</p>}
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
    return { ui: { ...ui, label: (label + (key === "]" ? 1 : n - 1)) % n } };
  }
  const { tokens } = tokenize(targetText(q, data));
  const caret = Math.min(ui.caret ?? -1, tokens.length - 1);
  if (active && tokens.length && /^(Shift\+)?Arrow(Left|Right)$/.test(key)) {
    const step = key.endsWith("Right") ? 1 : -1;
    const moved = Math.max(0, Math.min(tokens.length - 1, caret < 0 ? 0 : caret + step));
    const extend = key.startsWith("Shift+");
    return { ui: { ...ui, caret: moved, anchor: extend ? (ui.anchor ?? Math.max(caret, 0)) : null } };
  }
  if (active && key === "Delete" && caret >= 0) {
    const t = tokens[caret]!;
    return { value: spansOf(value).filter((s) => !(s.start < t.end && t.start < s.end)) };
  }
  const picked = labelForKey(q.labels, key, active);
  if (picked === null) return null;
  if (!active || ui.anchor === undefined || ui.anchor === null || caret < 0) return { ui: { ...ui, label: picked } };
  const [a, b] = [Math.min(ui.anchor, caret), Math.max(ui.anchor, caret)];
  const next = addSpan(q, value, { start: tokens[a]!.start, end: tokens[b]!.end, label: q.labels[picked]!.value });
  const ui2 = { ...ui, label: picked, anchor: null };
  return typeof next === "string" ? { ui: ui2, message: next } : { value: next, ui: ui2 };
}

export const spans: Kind<SpansQuestion> = {
  View,
  onKey,
  problem: () => null,
  given: (value) => Array.isArray(value),
};
