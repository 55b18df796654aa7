/**
 * Values as short text for people. Stored values are what the schema calls `value`s (`fresh`,
 * `PRODUCT`, `in_progress`); people chose and read the schema's labels ("Positive review",
 * "Product", "in progress"), so everything shown goes through the schema here, and the raw
 * forms (`valueText`, `answerText`) stay for tooltips. Item text and answers are untrusted: these
 * return plain strings, which the app only ever renders as text nodes.
 */

import { segmentsText } from "./audio/segments";
import { isShapeQuestion, looksLikeShapes, shapesText } from "./canvas/words";
import { feedbackValueText, isFeedbackQuestion } from "./feedback/words";
import { title } from "./questions/kind";
import type { Answer, LabelIssue, LabelSchema, Question } from "./types";

/** Longest string shown inside a raw value (an unknown value may hold anything, e.g. an RLE). */
const RAW_STRING = 60;

/**
 * A stored value as it is (spans as `LABEL[start:end]`): for tooltips and unknown questions.
 * Shapes are counted by class instead (`3 boxes: 2 car, 1 person`): their coordinates and
 * RLE strings mean nothing as text.
 */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(", ");
  if (looksLikeShapes(v)) return shapesText(v);
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "label" in x)) {
    return v.map((s: { start: number; end: number; label: string }) => `${s.label}[${s.start}:${s.end}]`).join(" ");
  }
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === "string" && x.length > RAW_STRING ? `${x.slice(0, RAW_STRING)}…` : x);
}

/** A whole answer as it is stored: `sentiment: fresh; product: PRODUCT[27:34]` (for tooltips). */
export function answerText(a: Answer): string {
  return Object.entries(a).map(([k, v]) => `${k}: ${valueText(v)}`).join("; ");
}

export function when(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Longest quote of a span's words; a longer one is cut with an ellipsis. */
const QUOTE = 80;

function quote(points: string[], start: number, end: number): string {
  const words = points.slice(start, Math.min(end, start + QUOTE)).join("");
  return `“${words}${end - start > QUOTE ? "…" : ""}”`;
}

/**
 * One question's value in the schema's words: option labels, a rating with its label, span
 * label names with the words they cover (offsets are code points, as Python counts them; when
 * the item's text is not at hand, the character range instead), shapes counted by class
 * (canvas/words.ts).
 */
export function questionValueText(q: Question, v: unknown, data?: Record<string, unknown>): string {
  if (v === undefined || v === null) return "–";
  if (isShapeQuestion(q)) return shapesText(v, q);
  if (q.type === "audio_segments") return segmentsText(v, q);
  if (isFeedbackQuestion(q)) return feedbackValueText(q, v, data);
  if (q.type === "spans" && Array.isArray(v)) {
    if (!v.length) return "no spans";
    const text = data?.[q.target];
    const points = typeof text === "string" ? Array.from(text) : null;
    return v
      .map((s: { start: number; end: number; label: string }) => {
        const name = q.labels.find((l) => l.value === s.label)?.label || s.label;
        return points ? `${name} ${quote(points, s.start, s.end)}` : `${name} (characters ${s.start}–${s.end})`;
      })
      .join(", ");
  }
  if (q.type === "choice" || q.type === "multi_choice") {
    const label = (x: unknown) => q.options.find((o) => o.value === x)?.label || String(x);
    return Array.isArray(v) ? (v.length ? v.map(label).join(", ") : "none") : label(v);
  }
  if (q.type === "rating" && typeof v === "number") {
    const word = q.labels?.[String(v)];
    return word ? `${v} (${word})` : String(v);
  }
  return valueText(v);
}

/**
 * A whole answer in the schema's words, question by question in the schema's order:
 * "Sentiment: Positive review; Product: Product “Acme Pro”". A key the schema does not know
 * (an older schema's question) is shown as it is stored.
 */
export function answerLabels(schema: LabelSchema, a: Answer, data?: Record<string, unknown>): string {
  const known = schema.questions.filter((q) => q.name in a);
  const names = new Set(known.map((q) => q.name));
  return [
    ...known.map((q) => `${title(q)}: ${questionValueText(q, a[q.name], data)}`),
    ...Object.entries(a).filter(([k]) => !names.has(k)).map(([k, v]) => `${k}: ${valueText(v)}`),
  ].join("; ");
}

const STATUSES: Record<string, string> = { open: "not started", in_progress: "in progress", done: "done" };
const REVIEWS: Record<string, string> = { pending: "waiting for review", done: "reviewed" };

/** An item's status in the words the data browser's filter uses. */
export function statusText(status: string): string {
  return STATUSES[status] ?? status.replace(/_/g, " ");
}

/** An item's review state in words (null: never sent to review). */
export function reviewText(review: string | null | undefined): string {
  return review ? REVIEWS[review] ?? review.replace(/_/g, " ") : "";
}

const REASONS: Record<string, string> = {
  unlikely_label: "unlikely label",
  confident_learning: "unlikely label (confident learning)",
  model_disagrees: "the model confidently disagrees",
};

/** Why the model suspects a label, in words (an unknown reason is shown as it came). */
export function labelIssueText(issue: LabelIssue): string {
  return issue.reasons.map((r) => REASONS[r] ?? r).join("; ");
}

/** What the suspecting model answered, e.g. "model 3 says Topic: Food (97%)". */
export function modelAnswerText(issue: LabelIssue, schema: LabelSchema, data?: Record<string, unknown>): string {
  const who = issue.model_version === null ? "the model" : `model ${issue.model_version}`;
  if (!issue.model_answer) return `${who} suspects it`;
  const said = answerLabels(schema, issue.model_answer.value, data);
  return `${who} says ${said} (${Math.round(issue.model_answer.confidence * 100)}%)`;
}
