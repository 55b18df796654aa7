/** Answers and values as short text for lists and tables. */

import type { Answer, LabelIssue, Question } from "./types";

export function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(", ");
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "label" in x)) {
    return v.map((s: { start: number; end: number; label: string }) => `${s.label}[${s.start}:${s.end}]`).join(" ");
  }
  return JSON.stringify(v);
}

export function answerText(a: Answer): string {
  return Object.entries(a).map(([k, v]) => `${k}: ${valueText(v)}`).join("; ");
}

export function when(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** One question's value as text; spans quote the words they mark (offsets are code points). */
export function questionValueText(q: Question, v: unknown, data: Record<string, unknown>): string {
  if (v === undefined || v === null) return "–";
  if (q.type === "spans" && Array.isArray(v)) {
    if (!v.length) return "no spans";
    const text = data[q.target];
    const points = typeof text === "string" ? Array.from(text) : [];
    return v
      .map((s: { start: number; end: number; label: string }) =>
        `${s.label} “${points.slice(s.start, s.end).join("")}”`)
      .join(", ");
  }
  if (q.type === "choice" || q.type === "multi_choice") {
    const label = (x: unknown) => q.options.find((o) => o.value === x)?.label || String(x);
    return Array.isArray(v) ? (v.length ? v.map(label).join(", ") : "none") : label(v);
  }
  return valueText(v);
}

const REASONS: Record<string, string> = {
  confident_learning: "unlikely label (confident learning)",
  model_disagrees: "the model confidently disagrees",
};

/** Why the model suspects a label, in words (an unknown reason is shown as it came). */
export function labelIssueText(issue: LabelIssue): string {
  return issue.reasons.map((r) => REASONS[r] ?? r).join("; ");
}

/** What the suspecting model answered, e.g. "model 3 says topic: food (97%)". */
export function modelAnswerText(issue: LabelIssue): string {
  const who = issue.model_version === null ? "the model" : `model ${issue.model_version}`;
  if (!issue.model_answer) return `${who} suspects it`;
  return `${who} says ${answerText(issue.model_answer.value)} (${Math.round(issue.model_answer.confidence * 100)}%)`;
}
