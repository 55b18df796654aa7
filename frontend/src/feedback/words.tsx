/**
 * Feedback answers for people who read them (review, the item page, history): a preference as
 * "A (r2) better than B (r1), much better: “reason”" (A and B are the sides the annotator saw), a
 * ranking as 1. 2. 3., criteria as a small table, a rewrite as its diff, flagged words quoted.
 * Candidates are named by their ids, as the data names them. All text nodes.
 */

import { DiffView } from "./DiffView";
import { candidatesOf } from "./candidates";
import { charDiff, changeCount, opsFromOpcodes } from "./diff";
import type { FeedbackQuestion, Question, ResponseSpansQuestion } from "../types";

const FEEDBACK = new Set(["preference", "ranking", "criteria", "rewrite", "response_spans"]);
const STRENGTH: Record<number, string> = { 1: "slightly better", 2: "better", 3: "much better" };
const QUOTE = 80;

export function isFeedbackQuestion(q: Question): q is FeedbackQuestion {
  return FEEDBACK.has(q.type);
}

function quoted(text: string): string {
  const points = Array.from(text);
  return `“${points.slice(0, QUOTE).join("")}${points.length > QUOTE ? "…" : ""}”`;
}

function criteriaNames(q: FeedbackQuestion): Map<string, string> {
  if (q.type !== "criteria") return new Map();
  return new Map(q.criteria.map((c) => (typeof c === "string" ? [c, c] : [c.name, c.label || c.name])));
}

function scoresText(names: Map<string, string>, scores: unknown): string {
  if (!scores || typeof scores !== "object") return "–";
  return Object.entries(scores as Record<string, unknown>).map(([k, v]) => `${names.get(k) ?? k} ${String(v)}`).join(", ");
}

function originalOf(q: FeedbackQuestion, data: Record<string, unknown> | undefined, id: string): string | null {
  return data ? candidatesOf(data, q.target).find((c) => c.id === id)?.content ?? null : null;
}

function spanLabel(q: ResponseSpansQuestion, value: string): string {
  for (const l of q.labels) {
    if (typeof l === "string" ? l === value : l.value === value) return typeof l === "string" ? l : l.label || l.value;
  }
  return value;
}

/** A feedback answer in words (one line). */
export function feedbackValueText(q: FeedbackQuestion, v: unknown, data?: Record<string, unknown>): string {
  const o = (v ?? {}) as Record<string, unknown>;
  switch (q.type) {
    case "preference": {
      const [l, r] = [String(o.left), String(o.right)];
      const strength = typeof o.strength === "number" ? `, ${STRENGTH[o.strength] ?? `strength ${o.strength}`}` : "";
      const reason = typeof o.reason === "string" && o.reason ? `: ${quoted(o.reason)}` : "";
      if (o.winner === "tie") return `A (${l}) and B (${r}) tie${reason}`;
      const said = o.winner === "left" ? `A (${l}) better than B (${r})` : `B (${r}) better than A (${l})`;
      return `${said}${strength}${reason}`;
    }
    case "ranking": {
      const order = Array.isArray(o.order) ? o.order.map(String) : [];
      return order.length ? order.map((id, i) => `${i + 1}. ${id}`).join(" ") : "nothing ranked";
    }
    case "criteria": {
      const names = criteriaNames(q);
      if (q.per_response === false) return scoresText(names, o);
      return Object.entries(o).map(([id, s]) => `${id}: ${scoresText(names, s)}`).join("; ") || "–";
    }
    case "rewrite": {
      const id = String(o.response);
      const text = typeof o.text === "string" ? o.text : "";
      const original = originalOf(q, data, id);
      if (original === null) return `${id} rewritten: ${quoted(text)}`;
      const { deleted, inserted } = changeCount(opsFromOpcodes(original, text, o.diff) ?? charDiff(original, text));
      return `${id} rewritten (${deleted} characters deleted, ${inserted} inserted): ${quoted(text)}`;
    }
    case "response_spans": {
      const id = String(o.response);
      const spans = Array.isArray(o.spans) ? (o.spans as { start: number; end: number; label: string }[]) : [];
      if (!spans.length) return `${id}: nothing flagged`;
      const original = originalOf(q, data, id);
      const points = original === null ? null : Array.from(original);
      return `${id}: ${spans.map((s) => `${spanLabel(q, s.label)} ${
        points ? quoted(points.slice(s.start, s.end).join("")) : `(characters ${s.start}–${s.end})`}`).join(", ")}`;
    }
  }
}

/** A feedback answer laid out: rankings as a list, criteria as a table, rewrites as their diff. */
export function FeedbackValue({ q, value, data }: { q: FeedbackQuestion; value: unknown; data?: Record<string, unknown> }) {
  if (value === undefined || value === null) return <>–</>;
  const o = value as Record<string, unknown>;
  if (q.type === "ranking" && Array.isArray(o.order)) {
    return <ol class="fb-ranking">{o.order.map((id) => <li>{String(id)}</li>)}</ol>;
  }
  if (q.type === "criteria" && q.per_response !== false) {
    const names = criteriaNames(q);
    const cols = [...names.keys()];
    return (
      <table class="fb-criteria">
        <thead><tr><th scope="col">response</th>{cols.map((c) => <th scope="col">{names.get(c)}</th>)}</tr></thead>
        <tbody>
          {Object.entries(o).map(([id, s]) => (
            <tr><th scope="row">{id}</th>{cols.map((c) => <td>{String((s as Record<string, unknown> | null)?.[c] ?? "–")}</td>)}</tr>
          ))}
        </tbody>
      </table>
    );
  }
  if (q.type === "rewrite" && typeof o.text === "string") {
    const original = originalOf(q, data, String(o.response));
    if (original !== null) {
      const ops = opsFromOpcodes(original, o.text, o.diff) ?? charDiff(original, o.text);
      return (
        <div class="fb-rewrite">
          <span>{`${String(o.response)} rewritten:`}</span>
          <DiffView ops={ops} label={`changes to ${String(o.response)}`} />
        </div>
      );
    }
  }
  return <>{feedbackValueText(q, value, data)}</>;
}
