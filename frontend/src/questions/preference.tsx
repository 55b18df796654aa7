/**
 * Pairwise preference (docs/feedback.md): which of two responses is better, or a tie; how much
 * better (1-3) and why, when the schema asks. Keys: 1 the left response (A), 2 the right one
 * (B), 3 a tie (when ties are allowed); Shift+1..3 how much better.
 *
 * The value records the pair as shown, `left` and `right`, so the sides drawn for this person
 * (feedback/candidates.ts) reach the data and position bias can be measured and averaged out.
 * A value already given (a draft, a decision started from an answer) keeps its own pair.
 */

import { CandidatePanes } from "../feedback/Panes";
import { pickPair, shownFor, type Shown } from "../feedback/candidates";
import type { PreferenceQuestion } from "../types";
import { title, type Kind, type KeyResult, type ViewProps } from "./kind";

export interface PreferenceValue {
  left: string;
  right: string;
  winner?: "left" | "right" | "tie";
  strength: number | null;
  reason: string | null;
}

export const STRENGTHS: Record<number, string> = { 1: "slightly better", 2: "better", 3: "much better" };
/** Shift+1..3 as the key arrives: the character it types, on US (! @ #) and UK (! " £) layouts. */
const SHIFTED: Record<string, number> = { "!": 1, "@": 2, "#": 3, "\"": 2, "£": 3 };

export function asPreference(value: unknown): PreferenceValue | null {
  const v = value as Partial<PreferenceValue> | null | undefined;
  return v && typeof v === "object" && typeof v.left === "string" && typeof v.right === "string"
    ? (v as PreferenceValue) : null;
}

/** The pair to show, left first. */
export function preferencePair(q: PreferenceQuestion, value: unknown, data: Record<string, unknown>): [Shown, Shown] | null {
  const { shown, seed } = shownFor(data, q.target);
  const v = asPreference(value);
  if (v) {
    const l = shown.find((s) => s.candidate.id === v.left);
    const r = shown.find((s) => s.candidate.id === v.right);
    if (l && r && l !== r) return [l, r];
  }
  return pickPair(shown, seed);
}

const ties = (q: PreferenceQuestion) => q.ties !== false;
const asksReason = (q: PreferenceQuestion) => !!q.reason && q.reason !== "none";

/** The value with one change, on the pair shown; strength and reason only where the schema asks. */
function withChange(
  q: PreferenceQuestion, value: unknown, pair: [Shown, Shown], change: Partial<PreferenceValue>,
): PreferenceValue {
  const v = asPreference(value);
  const next: PreferenceValue = {
    left: pair[0].candidate.id,
    right: pair[1].candidate.id,
    strength: q.strength ? v?.strength ?? null : null,
    reason: asksReason(q) ? v?.reason ?? null : null,
    ...(v?.winner ? { winner: v.winner } : {}),
    ...change,
  };
  if (next.winner === "tie") next.strength = null; // "how much better" means nothing for a tie
  return next;
}

function Target({ q, value, data }: ViewProps<PreferenceQuestion>) {
  const pair = preferencePair(q, value, data);
  if (!pair) return <p class="notice">This item needs two responses to compare.</p>;
  const winner = asPreference(value)?.winner;
  const mark = (side: "left" | "right") =>
    !winner ? undefined : winner === "tie" ? "tie" as const : winner === side ? "chosen" as const : "other" as const;
  const note = (side: "left" | "right") =>
    !winner ? undefined : winner === "tie" ? "tie" : winner === side ? "better" : undefined;
  return (
    <CandidatePanes panes={[
      { shown: pair[0], mark: mark("left"), note: note("left") },
      { shown: pair[1], mark: mark("right"), note: note("right") },
    ]} />
  );
}

function View({ q, value, set, data }: ViewProps<PreferenceQuestion>) {
  const pair = preferencePair(q, value, data);
  if (!pair) return <p class="notice">Nothing to compare.</p>;
  const v = asPreference(value);
  const change = (c: Partial<PreferenceValue>) => set(withChange(q, value, pair, c));
  const choices: [PreferenceValue["winner"], string, string][] = [
    ["left", "1", `Response ${pair[0].letter} is better`],
    ["right", "2", `Response ${pair[1].letter} is better`],
    ...(ties(q) ? [["tie", "3", "Tie"] as [PreferenceValue["winner"], string, string]] : []),
  ];
  return (
    <div class="preference">
      <div class="options" role="radiogroup" aria-label={title(q)}>
        {choices.map(([w, k, label]) => (
          <button type="button" role="radio" aria-checked={v?.winner === w} class={v?.winner === w ? "option on" : "option"}
            onClick={() => change({ winner: w })}>
            <kbd aria-hidden="true">{k}</kbd>
            <span>{label}</span>
          </button>
        ))}
      </div>
      {q.strength && (
        <div class="options strength" role="radiogroup" aria-label="how much better">
          {[1, 2, 3].map((s) => (
            <button type="button" role="radio" aria-checked={v?.strength === s}
              class={v?.strength === s ? "option on" : "option"} disabled={v?.winner === "tie"}
              onClick={() => change({ strength: v?.strength === s ? null : s })}>
              <kbd aria-hidden="true">{`⇧${s}`}</kbd>
              <span>{STRENGTHS[s]}</span>
            </button>
          ))}
        </div>
      )}
      {asksReason(q) && (
        <label class="reason">
          <span>{q.reason === "required" ? "Why? (required)" : "Why? (optional)"}</span>
          <textarea rows={2} class="text-answer" value={v?.reason ?? ""}
            onInput={(e) => change({ reason: (e.currentTarget as HTMLTextAreaElement).value || null })} />
        </label>
      )}
    </div>
  );
}

function onKey(
  q: PreferenceQuestion, value: unknown, key: string, active: boolean, _ui: unknown, data: Record<string, unknown>,
): KeyResult | null {
  if (!active) return null;
  const pair = preferencePair(q, value, data);
  if (!pair) return null;
  const winner = key === "1" ? "left" : key === "2" ? "right" : key === "3" ? "tie" : null;
  if (winner === "tie" && !ties(q)) return { message: "This question allows no ties: 1 or 2." };
  if (winner) {
    // Nothing more to give: like a single choice, the pick moves on.
    const done = !q.strength && !asksReason(q);
    return { value: withChange(q, value, pair, { winner }), advance: done };
  }
  const strength = SHIFTED[key];
  if (strength && q.strength) {
    const w = asPreference(value)?.winner;
    if (w === "tie") return { message: "A tie has no “how much better”." };
    return { value: withChange(q, value, pair, { strength }) };
  }
  return null;
}

export const preference: Kind<PreferenceQuestion> = {
  View,
  Target,
  onKey: onKey as Kind<PreferenceQuestion>["onKey"],
  problem(q, value) {
    const v = asPreference(value);
    if (v && asksReason(q) && q.reason === "required" && !(v.reason ?? "").trim()) return "say why (the reason is required)";
    return null;
  },
  given: (value) => !!asPreference(value)?.winner,
};
