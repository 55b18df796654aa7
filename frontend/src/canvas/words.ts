/**
 * A shape question's value in words, for every place that shows answers as text (review cards,
 * the suggestion, the data browser, "My answers"): "3 boxes: 2 Person, 1 Car", "polygon
 * (14 points): Roof", "mask: Road, 12,480 px", "keypoints: Person, 15 of 17 points". Never the
 * coordinates, and never an RLE string: those are for the canvas. Values come from other people
 * and models, so anything malformed is described, not trusted (these are plain strings, shown as
 * text nodes).
 */

import type { ShapeQuestion } from "../types";
import { area, type Rle } from "./rle";

type Kind = "box" | "rotated" | "polygon" | "polyline" | "keypoints" | "mask" | "object";

const NOUNS: Record<Kind, [string, string]> = {
  box: ["box", "boxes"],
  rotated: ["rotated box", "rotated boxes"],
  polygon: ["polygon", "polygons"],
  polyline: ["polyline", "polylines"],
  keypoints: ["keypoint object", "keypoint objects"],
  mask: ["mask", "masks"],
  object: ["object", "objects"],
};

const BY_TYPE: Record<ShapeQuestion["type"], Kind> = {
  bbox: "box", rotated_bbox: "rotated", polygon: "polygon", polyline: "polyline", keypoints: "keypoints", mask: "mask",
};

/** At most this many groups are named; the rest are counted. */
const NAMED = 6;

const SHAPE_TYPES = new Set(Object.keys(BY_TYPE));

export function isShapeQuestion(q: { type: string }): q is ShapeQuestion {
  return SHAPE_TYPES.has(q.type);
}

interface Obj {
  label?: unknown;
  box?: unknown;
  points?: unknown;
  rle?: unknown;
}

export const count = (n: number) => n.toLocaleString("en-US");

function plural(n: number, kind: Kind): string {
  return `${count(n)} ${NOUNS[kind][n === 1 ? 0 : 1]}`;
}

/** Whether a value looks like a list of shape objects (for values shown without their schema). */
export function looksLikeShapes(v: unknown): v is Obj[] {
  return Array.isArray(v) && v.length > 0 && v.every((o) =>
    !!o && typeof o === "object" && !Array.isArray(o) && "label" in o && ("box" in o || "points" in o || "rle" in o));
}

function kindOf(o: Obj): Kind {
  if (Array.isArray(o.box)) return o.box.length === 5 ? "rotated" : "box";
  if (o.rle && typeof o.rle === "object") return "mask";
  if (o.points && typeof o.points === "object" && !Array.isArray(o.points)) return "keypoints";
  return "object";
}

/** Pixels of a mask, or null when its RLE does not decode (the server names the problem). */
export function maskPixels(rle: unknown): number | null {
  try {
    return area(rle as Rle);
  } catch {
    return null;
  }
}

function points(o: Obj): number {
  return Array.isArray(o.points) ? o.points.length : 0;
}

function keypointCounts(o: Obj, names: string[] | null): [number, number] {
  const pts = o.points && typeof o.points === "object" ? (o.points as Record<string, unknown>) : {};
  const all = names ?? Object.keys(pts);
  const placed = all.filter((n) => {
    const p = pts[n];
    return Array.isArray(p) && typeof p[2] === "number" && p[2] > 0;
  }).length;
  return [placed, all.length];
}

/** "2 Person, 1 Car": classes by how many objects have them (most first), then first seen. */
function groups(objs: Obj[], name: (label: unknown) => string, detail?: (of: Obj[]) => string, ones = true): string {
  const by = new Map<string, Obj[]>();
  for (const o of objs) {
    const n = name(o.label);
    by.set(n, [...(by.get(n) ?? []), o]);
  }
  const sorted = [...by.entries()].sort((a, b) => b[1].length - a[1].length);
  const shown = sorted.slice(0, NAMED).map(([n, of]) =>
    `${of.length > 1 || (ones && objs.length > 1) ? `${count(of.length)} ` : ""}${n}${detail ? ` ${detail(of)}` : ""}`);
  const rest = sorted.length - shown.length;
  return [...shown, ...(rest > 0 ? [`${rest} more class${rest === 1 ? "" : "es"}`] : [])].join(", ");
}

function pixels(of: Obj[]): string {
  const each = of.map((o) => maskPixels(o.rle));
  return each.some((n) => n === null) ? "(unreadable mask)" : `${count(each.reduce((s: number, n) => s + n!, 0))} px`;
}

/**
 * The objects in words. `q` gives class names and the skeleton; without it (a value shown
 * apart from its schema) the stored class values and the objects' own shape keys are used.
 */
export function shapesText(v: unknown, q?: ShapeQuestion): string {
  const kind: Kind = q ? BY_TYPE[q.type] : "object";
  if (!Array.isArray(v)) return `not a list of ${NOUNS[kind][1]}`;
  if (!v.length) return `no ${NOUNS[kind][1]} (nothing here)`;
  const objs = v.filter((o): o is Obj => !!o && typeof o === "object");
  const kinds = new Set(objs.map(kindOf));
  const k: Kind = q ? kind : kinds.size === 1 ? [...kinds][0]! : "object";
  const name = (label: unknown) =>
    q?.labels.find((l) => l.value === label)?.label || (typeof label === "string" ? label : String(label ?? "?"));
  if (objs.length === 1) {
    const [o] = objs as [Obj];
    if (k === "polygon" || k === "polyline") {
      const n = points(o);
      return `${NOUNS[k][0]} (${count(n)} point${n === 1 ? "" : "s"}): ${name(o.label)}`;
    }
    if (k === "mask") return `mask: ${name(o.label)}, ${pixels([o])}`;
    if (k === "keypoints") {
      const [placed, all] = keypointCounts(o, q?.skeleton?.points ?? null);
      return `keypoints: ${name(o.label)}, ${placed} of ${all} points`;
    }
  }
  if (k === "mask") return `${plural(objs.length, k)}: ${groups(objs, name, pixels, false)}`;
  if (k === "keypoints") {
    const [placed, all] = objs.map((o) => keypointCounts(o, q?.skeleton?.points ?? null))
      .reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
    return `${plural(objs.length, k)}: ${groups(objs, name)} (${placed} of ${all} points)`;
  }
  return `${plural(objs.length, k)}: ${groups(objs, name)}`;
}
