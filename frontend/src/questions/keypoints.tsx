/**
 * Keypoints with a named skeleton: `{"label", "points": {"nose": [x, y, v], …}}`, one entry per
 * name in the question's `skeleton.points`; v as in COCO: 0 not labelled (x = y = 0), 1 labelled
 * but hidden, 2 visible (docs/images.md).
 *
 * Placing: with nothing selected, a click starts a new object at its first point; each further
 * click places the next name in skeleton order (the panel says which). v switches the point just
 * placed (or the selected one) between visible and hidden; s skips the next point, leaving it
 * unlabelled. A placed point can be dragged; click it, then Delete unlabels it.
 */

import type { ShapeQuestion } from "../types";
import type { ClickResult, Ctx, Family, Handle } from "../canvas/family";
import { clampMove, type Pt } from "../canvas/geometry";
import { shapeKind } from "../canvas/kind";
import { replaced, selectedIndex, withFlagsOf, type Shape, type ShapeUi } from "../canvas/shape";

type Kp = [number, number, number];

export function pointNames(q: ShapeQuestion): string[] {
  return q.skeleton?.points ?? [];
}

function pointsOf(o: Shape): Record<string, Kp> {
  return (o.points ?? {}) as Record<string, Kp>;
}

function edges(q: ShapeQuestion): [string, string][] {
  const names = pointNames(q);
  const name = (e: string | number) => (typeof e === "number" ? names[e] ?? "" : e);
  return (q.skeleton?.edges ?? []).map(([a, b]) => [name(a), name(b)]);
}

const placed = (p: Kp | undefined): p is Kp => !!p && p[2] > 0;

/** Index of the point a handle id names ("p3"), or -1. */
const handlePoint = (id: string | null | undefined) => (id?.startsWith("p") ? Number(id.slice(1)) : -1);

function withPoint(o: Shape, name: string, p: Kp): Shape {
  return { ...o, points: { ...pointsOf(o), [name]: p } };
}

/** What the panel says while placing: the next name, its number, and the keys. */
function placingNotice(q: ShapeQuestion, k: number): string {
  const names = pointNames(q);
  return k >= 0 && k < names.length
    ? `Next point: ${names[k]} (${k + 1} of ${names.length}). Click to place it; s skips it, v makes the last one hidden.`
    : "All points placed. Drag a point to move it; Escape ends this object.";
}

function next(q: ShapeQuestion, o: Shape, after: number): number {
  const names = pointNames(q);
  for (let k = after + 1; k < names.length; k++) if (!placed(pointsOf(o)[names[k]!])) return k;
  return -1;
}

function click(shapes: Shape[], ui: ShapeUi, p: Pt, ctx: Ctx, hit: number | null): ClickResult | null {
  const names = pointNames(ctx.q);
  const i = selectedIndex(ui, shapes);
  const k = handlePoint(ui.handle);
  if (i !== null && k >= 0 && !placed(pointsOf(shapes[i]!)[names[k]!])) {
    const o = withPoint(shapes[i]!, names[k]!, [p[0], p[1], 2]);
    const after = next(ctx.q, o, k);
    return {
      value: replaced(shapes, i, o),
      ui: { ...withFlagsOf(ui, shapes[i]!, o), handle: after >= 0 ? `p${after}` : null, last: k, notice: placingNotice(ctx.q, after) },
    };
  }
  if (i !== null || hit !== null || !names.length) return null;
  const label = ctx.q.labels[ui.label ?? 0]!.value;
  const pts: Record<string, Kp> = {};
  names.forEach((n, j) => (pts[n] = j === 0 ? [p[0], p[1], 2] : [0, 0, 0]));
  return {
    value: [...shapes, { label, points: pts }],
    ui: { ...ui, selected: shapes.length, handle: names.length > 1 ? "p1" : null, last: 0, notice: placingNotice(ctx.q, 1) },
  };
}

function key(shapes: Shape[], ui: ShapeUi, k: string, ctx: Ctx): ClickResult | null {
  const i = selectedIndex(ui, shapes);
  if (i === null) return null;
  const names = pointNames(ctx.q);
  const o = shapes[i]!;
  const current = handlePoint(ui.handle);
  if (k === "s" && current >= 0 && !placed(pointsOf(o)[names[current]!])) {
    const after = next(ctx.q, o, current);
    const notice = `Skipped ${names[current]}. ${placingNotice(ctx.q, after)}`;
    return { ui: { ...ui, handle: after >= 0 ? `p${after}` : null, notice } };
  }
  if (k === "v") {
    // The selected point if it is placed, else the one placed last.
    const target = current >= 0 && placed(pointsOf(o)[names[current]!]) ? current : ui.last ?? -1;
    const name = names[target];
    const pt = name === undefined ? undefined : pointsOf(o)[name];
    if (!name || !placed(pt)) return { ui: { ...ui, notice: "No point to make hidden or visible: place one first." } };
    const v = pt[2] === 2 ? 1 : 2;
    const turned = withPoint(o, name, [pt[0], pt[1], v]);
    return {
      value: replaced(shapes, i, turned),
      ui: { ...withFlagsOf(ui, o, turned), notice: `${name} is now ${v === 2 ? "visible" : "hidden (labelled, v = 1)"}.` },
    };
  }
  return null;
}

export const keypointsFamily: Family = {
  draw: "points",
  hint: "Click to place the points in order (the next name is shown below); v: hidden/visible, s: skip a point.",
  render: (o, q) => {
    const pts = pointsOf(o);
    const out = edges(q)
      .filter(([a, b]) => placed(pts[a]) && placed(pts[b]))
      .map(([a, b]) => <line class="bone" x1={pts[a]![0]} y1={pts[a]![1]} x2={pts[b]![0]} y2={pts[b]![1]} />);
    for (const name of pointNames(q)) {
      const p = pts[name];
      // A zero-length line with round caps and a stroke that does not scale: a dot of the same
      // size on screen at every zoom, without drawing the layer again when the zoom changes.
      if (!placed(p)) continue;
      out.push(<path class={p[2] === 2 ? "kp" : "kp hidden-point"} d={`M${p[0]} ${p[1]}h0`}><title>{name}</title></path>);
    }
    return out;
  },
  outline: (o) => Object.values(pointsOf(o)).filter(placed).map(([x, y]): Pt => [x, y]),
  translate: (o, dx, dy, ctx) => {
    const [mx, my] = clampMove(keypointsFamily.outline(o), dx, dy, ctx.img);
    const moved: Record<string, Kp> = {};
    for (const [n, p] of Object.entries(pointsOf(o))) moved[n] = placed(p) ? [p[0] + mx, p[1] + my, p[2]] : p;
    return { ...o, points: moved };
  },
  handles: (o, ctx) =>
    pointNames(ctx.q).flatMap((name, k): Handle[] => {
      const p = pointsOf(o)[name];
      return placed(p) ? [{ id: `p${k}`, at: [p[0], p[1]], kind: "point", title: name }] : [];
    }),
  dragHandle: (o, id, p, ctx) => {
    const name = pointNames(ctx.q)[handlePoint(id)]!;
    const v = pointsOf(o)[name]?.[2] || 2;
    return withPoint(o, name, [p[0], p[1], v]);
  },
  removeHandle: (o, id, ctx) => {
    const name = pointNames(ctx.q)[handlePoint(id)]!;
    const left = Object.entries(pointsOf(o)).filter(([n, p]) => n !== name && placed(p)).length;
    if (!left) return "an object needs at least one labelled point (Delete again removes it)";
    return withPoint(o, name, [0, 0, 0]);
  },
  click,
  key,
  describe: (o, q) => {
    const pts = pointsOf(o);
    const names = pointNames(q);
    const n = names.filter((name) => placed(pts[name])).length;
    return `${n} of ${names.length} points`;
  },
  problem: (o, q) => {
    const pts = pointsOf(o);
    if (pointNames(q).some((n) => !pts[n])) return "a point of the skeleton is missing";
    return Object.values(pts).some(placed) ? null : "no point is labelled";
  },
};

export const keypoints = shapeKind(keypointsFamily);
