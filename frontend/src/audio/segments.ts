/**
 * An `audio_segments` answer (docs/audio.md, "Segments"): a list of
 * `{start, end, label, text, words, attributes}` in seconds, kept here as the server stores it
 * (sorted by start, then end; every time rounded to the millisecond), and the per-question state
 * that is not part of the answer (the label for new segments, the selection, the start mark, the
 * loop, the model's suggested segments taken or dismissed).
 */

import type { AudioSegmentsQuestion, SpanLabel } from "../types";

export interface Word {
  start: number;
  end: number;
  word: string;
}

export interface Segment {
  start: number;
  end: number;
  label: string;
  text?: string | null;
  words?: Word[] | null;
  attributes?: Record<string, string>;
}

export interface AudioUi {
  /** Index of the label that new segments get. */
  label?: number;
  selected?: number | null;
  /** A start marked at the playhead ([), waiting for its end (]). */
  mark?: number | null;
  /** Loop the selected segment while playing. */
  loop?: boolean;
  /** What the last action did, or why it did nothing. */
  notice?: string;
  /** Segments accepted from the suggestion, and their edited copies: the suggested segment each came from. */
  origin?: Map<Segment, Segment>;
  dismissed?: Set<Segment>;
  /** The suggested segment that y and x act on (index into the suggestion). */
  pick?: number | null;
  /** Bumped to ask the panel to put the focus in the selected segment's transcript (t). */
  typeText?: number;
}

export const DEFAULT_MAX = 1000;

export function ms(t: number): number {
  return Math.round(t * 1000) / 1000;
}

export function segmentsOf(value: unknown): Segment[] {
  return Array.isArray(value) ? (value as Segment[]) : [];
}

export function labelName(l: SpanLabel): string {
  return l.label || l.value;
}

/** The colour class of a label (lab-0 … lab-7, as spans and shapes use). */
export function colourOf(q: AudioSegmentsQuestion, label: string): string {
  return `lab-${Math.max(0, q.labels.findIndex((l) => l.value === label)) % 8}`;
}

export function nameOf(q: AudioSegmentsQuestion, label: string): string {
  const l = q.labels.find((x) => x.value === label);
  return l ? labelName(l) : label;
}

export function maxSegments(q: AudioSegmentsQuestion): number {
  return q.max_segments ?? DEFAULT_MAX;
}

export function selectedIndex(ui: AudioUi, segs: Segment[]): number | null {
  const i = ui.selected;
  return i !== undefined && i !== null && i >= 0 && i < segs.length ? i : null;
}

/** "1.250–3.500 s" */
export function span(s: { start: number; end: number }): string {
  return `${s.start.toFixed(3)}–${s.end.toFixed(3)} s`;
}

/** "1:02.5" */
export function clock(t: number): string {
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s < 10 ? "0" : ""}${s.toFixed(1)}`;
}

const order = (a: Segment, b: Segment) => a.start - b.start || a.end - b.end;

/** The index of the first other segment that [start, end) would overlap, or null. */
export function overlapping(segs: Segment[], start: number, end: number, except: Segment | null = null): number | null {
  const i = segs.findIndex((s) => s !== except && s.start < end && start < s.end);
  return i < 0 ? null : i;
}

/** A new segment with the question's empty transcript. */
export function newSegment(q: AudioSegmentsQuestion, start: number, end: number, label: string): Segment {
  const s: Segment = { start: ms(start), end: ms(end), label };
  if (q.transcript) s.text = "";
  return s;
}

/**
 * The segment with new bounds or text. Word timings belong to the model's text and bounds: once
 * either changes they no longer hold, so they are dropped.
 */
export function edited(o: Segment, change: Partial<Pick<Segment, "start" | "end" | "text">>): Segment {
  const next: Segment = { ...o, ...change };
  if (next.start !== o.start || next.end !== o.end || (next.text ?? null) !== (o.text ?? null)) delete next.words;
  return next;
}

export interface Placed {
  value: Segment[];
  ui: AudioUi;
}

/**
 * `segs` with `o` (a new segment, or the edited copy of `segs[i]`) in its place, sorted, and the
 * selection on it; or why not (overlap, too many, too short).
 */
export function place(
  q: AudioSegmentsQuestion, segs: Segment[], ui: AudioUi, o: Segment, i: number | null, notice = "",
): Placed | string {
  if (!(o.end > o.start)) return "A segment must end after it starts (to the millisecond).";
  const before = i === null ? null : segs[i]!;
  if (i === null && segs.length >= maxSegments(q)) return `At most ${maxSegments(q)} segments.`;
  if (!q.allow_overlap) {
    const j = overlapping(segs, o.start, o.end, before);
    if (j !== null) return `Segments may not overlap in this question: that would overlap segment ${j + 1} (${span(segs[j]!)}).`;
  }
  const rest = segs.filter((s) => s !== before);
  const value = [...rest, o].sort(order);
  // An edited copy remembers the segment it started from (for a suggested one: the suggestion,
  // which is then not offered again).
  let origin = ui.origin;
  const came = before && (ui.origin?.get(before) ?? before);
  if (came) {
    origin = new Map(ui.origin);
    origin.set(o, came);
  }
  return { value, ui: { ...ui, origin, selected: value.indexOf(o), notice } };
}

export function removed(segs: Segment[], ui: AudioUi, i: number): Placed {
  return { value: segs.filter((_, j) => j !== i), ui: { ...ui, selected: null, loop: false, notice: `Segment ${i + 1} removed.` } };
}

/** The segments in words: "3 segments: 2 Speech, 1 Music", "no segments (nothing here)". */
export function segmentsText(value: unknown, q: AudioSegmentsQuestion): string {
  const segs = segmentsOf(value);
  if (!segs.length) return "no segments (nothing here)";
  const counts = new Map<string, number>();
  for (const s of segs) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${n} ${nameOf(q, String(l))}`);
  return `${segs.length} segment${segs.length === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** Why the server would refuse the answer, or null. */
export function segmentsProblem(q: AudioSegmentsQuestion, value: unknown): string | null {
  const segs = segmentsOf(value);
  if (segs.length > maxSegments(q)) return `at most ${maxSegments(q)} segments`;
  for (const [i, s] of segs.entries()) {
    if (!(s.end > s.start)) return `segment ${i + 1} must end after it starts`;
    for (const a of q.attributes ?? []) {
      if (a.required !== false && !s.attributes?.[a.name]) return `segment ${i + 1} needs “${a.label || a.name}”`;
    }
    const next = segs[i + 1];
    if (!q.allow_overlap && next && next.start < s.end) return `segments ${i + 1} and ${i + 2} overlap`;
  }
  return null;
}

// ---------------------------------------------------------------- the model's suggestion

/** Indices of the suggested segments still to decide: not in the answer (as themselves, an edited copy, or equal) nor dismissed. */
export function openSuggestions(sug: Segment[], segs: Segment[], ui: AudioUi): number[] {
  if (!sug.length) return [];
  const held = new Set<Segment>();
  for (const s of segs) {
    held.add(s);
    const from = ui.origin?.get(s);
    if (from) held.add(from);
  }
  const equal = new Set(segs.map((s) => JSON.stringify(s)));
  return sug.flatMap((s, k) => (held.has(s) || ui.dismissed?.has(s) || equal.has(JSON.stringify(s)) ? [] : [k]));
}

export function pickedSuggestion(open: number[], ui: AudioUi): number | null {
  return ui.pick !== undefined && ui.pick !== null && open.includes(ui.pick) ? ui.pick : open[0] ?? null;
}

/** The suggested segment itself put in the answer (its text and words kept), selected. */
export function acceptSuggestion(q: AudioSegmentsQuestion, segs: Segment[], ui: AudioUi, sug: Segment[], k: number): Placed | string {
  const r = place(q, segs, ui, sug[k]!, null, `Suggested segment ${k + 1} accepted.`);
  return typeof r === "string" ? r : { ...r, ui: { ...r.ui, pick: null } };
}

export function dismissSuggestion(ui: AudioUi, sug: Segment[], k: number): AudioUi {
  const dismissed = new Set(ui.dismissed);
  dismissed.add(sug[k]!);
  return { ...ui, dismissed, pick: null, notice: `Suggested segment ${k + 1} dismissed.` };
}
