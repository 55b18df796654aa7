/**
 * What every shape question shares: its objects (docs/images.md: a list of `{label, …}` with
 * optional `attributes`), the per-question state that is not part of the answer (the class for
 * new objects, the selection, hidden and locked objects, the brush), and redo.
 */

import type { ShapeAttribute, ShapeQuestion, SpanLabel } from "../types";
import { digit } from "../questions/kind";
import type { Pt } from "./geometry";
import type { Rle } from "./rle";

export interface Shape {
  label: string;
  attributes?: Record<string, string>;
  box?: number[];
  points?: number[][] | Record<string, number[]>;
  rle?: Rle;
}

export const HIDDEN = 1;
export const LOCKED = 2;

/** Per question, kept by the page beside the answer (never stored). */
export interface ShapeUi {
  /** Index of the class that new objects get. */
  label?: number;
  selected?: number | null;
  /** A vertex ("v3") or keypoint ("p2") of the selected object, for Delete and visibility. */
  handle?: string | null;
  /** Keypoints: the point placed last (v switches it). */
  last?: number;
  /**
   * Hidden / locked, per object. Keyed by the object itself: an edit makes a new object and
   * carries the flags over (`withFlagsOf`), and indices would shift under every deletion.
   */
  flags?: Map<Shape, number>;
  /** Mask brush radius in image pixels, and whether it erases. */
  brush?: number;
  erase?: boolean;
  /** What the last action did, or why it did nothing. */
  notice?: string;
  /**
   * Objects accepted from the model's suggestion, and their edited copies: the suggested object
   * each came from (canvas/others.tsx), so that it is not offered again.
   */
  origin?: Map<Shape, Shape>;
  /** Suggested objects the annotator dismissed. */
  dismissed?: Set<Shape>;
  /** The suggested object that y and x act on (index into the suggestion). */
  pick?: number | null;
  /** Other values (questions/kind.ts: OtherValue) switched off, by id. */
  off?: Set<string>;
  /** Masks: proposing a mask from a box and scribbles (canvas/propose.ts); absent otherwise. */
  propose?: Proposing;
}

/** The prompt of an interactive mask, and the proposal it brought (docs/images.md, "Workbench"). */
export interface Proposing {
  /** What a drag on the image does: draw the box, or scribble inside or outside the object. */
  tool: "box" | "inside" | "outside";
  /** [x1, y1, x2, y2] in image pixels. */
  box: number[] | null;
  inside: Pt[][];
  outside: Pt[][];
  /** The proposal in the answer (a mask object), until kept or discarded. */
  target: Shape | null;
  /** The request this prompt is waiting for (an answer to an older one is dropped). */
  asked?: number;
  /** Why the last request brought no mask. */
  error?: string;
}

/** The mask brush's radius in image pixels: as set, else a hundredth of the image's longer side. */
export function brushRadius(ui: ShapeUi, img: { width: number; height: number }): number {
  return ui.brush ?? Math.max(1, Math.round(Math.max(img.width, img.height) / 100));
}

export function shapesOf(value: unknown): Shape[] {
  return Array.isArray(value) ? (value as Shape[]) : [];
}

export function labelName(l: SpanLabel): string {
  return l.label || l.value;
}

/** The key shown for a class: its own, else 1 to 9 by position. */
export function labelKey(labels: SpanLabel[], i: number): string {
  return labels[i]!.key ?? (i < 9 && !labels.some((l) => l.key === String(i + 1)) ? String(i + 1) : "");
}

/** The class a key picks: a label's own key always; a digit only while the question is active. */
export function labelForKey(labels: SpanLabel[], key: string, active: boolean): number | null {
  const explicit = labels.findIndex((l) => l.key === key);
  if (explicit >= 0) return explicit;
  const n = digit(key);
  return active && n !== null && n <= labels.length && !labels.some((l) => l.key === key) ? n - 1 : null;
}

/** The colour class of an object's label (lab-0 … lab-7, as spans use). */
export function colourOf(q: ShapeQuestion, label: string): string {
  const i = q.labels.findIndex((l) => l.value === label);
  return `lab-${Math.max(0, i) % 8}`;
}

export function flagsOf(ui: ShapeUi, o: Shape | undefined): number {
  return (o && ui.flags?.get(o)) || 0;
}

export function withFlag(ui: ShapeUi, o: Shape, flag: number, on: boolean): ShapeUi {
  const flags = new Map(ui.flags);
  const now = (flags.get(o) ?? 0) & ~flag;
  if (now | (on ? flag : 0)) flags.set(o, now | (on ? flag : 0));
  else flags.delete(o);
  return { ...ui, flags };
}

/** The flags (and the suggested object it came from) of `from` given to its edited copy `to`. */
export function withFlagsOf(ui: ShapeUi, from: Shape, to: Shape): ShapeUi {
  const f = flagsOf(ui, from);
  const came = ui.origin?.get(from);
  let out = ui;
  if (f) {
    const flags = new Map(ui.flags);
    flags.set(to, f);
    out = { ...out, flags };
  }
  if (came) {
    const origin = new Map(ui.origin);
    origin.set(to, came);
    out = { ...out, origin };
  }
  return out;
}

export function selectedIndex(ui: ShapeUi, shapes: Shape[]): number | null {
  const i = ui.selected;
  return i !== undefined && i !== null && i >= 0 && i < shapes.length ? i : null;
}

/** The list with object `i` replaced. */
export function replaced(shapes: Shape[], i: number, o: Shape): Shape[] {
  const next = shapes.slice();
  next[i] = o;
  return next;
}

export function attributeOptions(a: ShapeAttribute): { value: string; label: string }[] {
  return (a.options ?? []).map((o) =>
    typeof o === "string" ? { value: o, label: o } : { value: o.value, label: o.label || o.value });
}

/**
 * Redo, beside the page's own undo (Backspace, Ctrl+Z), which steps the whole answer back. Each
 * question keeps the values it has shown, in order: a value seen before is an undo (the ones
 * after it can be redone); a new one is an edit (nothing left to redo). Values are compared as
 * objects, which is what the page's undo hands back.
 */
interface Trail {
  values: unknown[];
  at: number;
}

const trails = new Map<string, Trail>();
const KEEP = 200;

export function noteValue(question: string, value: unknown): void {
  const t = trails.get(question) ?? { values: [], at: -1 };
  trails.set(question, t);
  if (t.values[t.at] === value) return;
  const seen = t.at >= 0 ? t.values.lastIndexOf(value, t.at) : -1;
  if (seen >= 0) {
    t.at = seen;
    return;
  }
  const redone = t.values.indexOf(value, t.at + 1);
  if (redone >= 0) {
    t.at = redone;
    return;
  }
  t.values = [...t.values.slice(Math.max(0, t.at + 2 - KEEP), t.at + 1), value];
  t.at = t.values.length - 1;
}

/** The value a redo brings back, or undefined. */
export function redoValue(question: string): unknown {
  const t = trails.get(question);
  return t && t.at + 1 < t.values.length ? t.values[t.at + 1] : undefined;
}
