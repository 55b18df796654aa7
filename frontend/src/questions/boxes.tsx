/**
 * Boxes: axis-aligned (`bbox`, `{"label", "box": [x1, y1, x2, y2]}`) and rotated
 * (`rotated_bbox`, `{"label", "box": [cx, cy, w, h, angle]}`, angle in degrees clockwise in
 * (-180, 180]); docs/images.md. Drag on the image to draw one; drag its handles to resize it;
 * a rotated box has one more handle above its top edge that turns it (Shift: by 15°).
 */

import type { Ctx, Family, Handle } from "../canvas/family";
import { clampMove, normAngle, rotate, rotatedCorners, snap, snapPt, type Pt } from "../canvas/geometry";
import { shapeKind } from "../canvas/kind";
import type { Shape } from "../canvas/shape";

const num = (v: number) => String(Math.round(v * 100) / 100);

/** Handle names and their side of the box: -1 left/top, 0 middle, 1 right/bottom. */
const SIDES: [string, number, number][] = [
  ["nw", -1, -1], ["n", 0, -1], ["ne", 1, -1], ["e", 1, 0], ["se", 1, 1], ["s", 0, 1], ["sw", -1, 1], ["w", -1, 0],
];

function sides(id: string): [number, number] {
  const s = SIDES.find(([n]) => n === id);
  return s ? [s[1], s[2]] : [0, 0];
}

function handleKind(sx: number, sy: number): "corner" | "edge" {
  return sx && sy ? "corner" : "edge";
}

/** A box that keeps x1 < x2 and y1 < y2 (dragging a side past the other swaps them). */
function ordered(x1: number, y1: number, x2: number, y2: number): number[] {
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}

export const bboxFamily: Family = {
  draw: "drag",
  hint: "Drag on the image to draw a box; drag a box to move it, its handles to resize it.",
  render: (o) => {
    const [x1, y1, x2, y2] = o.box as [number, number, number, number];
    return <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} />;
  },
  outline: (o) => {
    const [x1, y1, x2, y2] = o.box as [number, number, number, number];
    return [[x1, y1], [x2, y2]];
  },
  translate: (o, dx, dy, ctx) => {
    const [mx, my] = clampMove(bboxFamily.outline(o), dx, dy, ctx.img);
    const [x1, y1, x2, y2] = o.box as [number, number, number, number];
    return { ...o, box: [x1 + mx, y1 + my, x2 + mx, y2 + my] };
  },
  handles: (o) => {
    const [x1, y1, x2, y2] = o.box as [number, number, number, number];
    const at = (s: number, lo: number, hi: number) => (s < 0 ? lo : s > 0 ? hi : (lo + hi) / 2);
    return SIDES.map(([id, sx, sy]): Handle => ({ id, at: [at(sx, x1, x2), at(sy, y1, y2)], kind: handleKind(sx, sy) }));
  },
  dragHandle: (o, id, p, ctx) => {
    const [sx, sy] = sides(id);
    let [x1, y1, x2, y2] = o.box as [number, number, number, number];
    const [px, py] = snapPt(p, ctx.step, ctx.img);
    if (sx < 0) x1 = px;
    if (sx > 0) x2 = px;
    if (sy < 0) y1 = py;
    if (sy > 0) y2 = py;
    const box = ordered(x1, y1, x2, y2);
    // A box never collapses to a line: it keeps at least one grid step each way.
    if (box[2]! - box[0]! < ctx.step || box[3]! - box[1]! < ctx.step) return o;
    return { ...o, box };
  },
  fromDrag: (a, b, label, ctx) => {
    const [p, q] = [snapPt(a, ctx.step, ctx.img), snapPt(b, ctx.step, ctx.img)];
    const box = ordered(p[0], p[1], q[0], q[1]);
    return box[2]! - box[0]! >= ctx.step && box[3]! - box[1]! >= ctx.step ? { label, box } : null;
  },
  describe: (o) => {
    const [x1, y1, x2, y2] = o.box as number[] as [number, number, number, number];
    return `${num(x1)}, ${num(y1)} – ${num(x2)}, ${num(y2)} (${num(x2 - x1)} × ${num(y2 - y1)})`;
  },
};

/** A rotated box's handles are 24 screen pixels above the top edge (turning) and on its outline. */
const ROTATE_OFFSET_PX = 24;

function rotatedHandles(o: Shape, ctx: Ctx): Handle[] {
  const [cx, cy, w, h, angle] = o.box as [number, number, number, number, number];
  const c: Pt = [cx, cy];
  const out = SIDES.map(([id, sx, sy]): Handle => ({
    id, at: rotate([cx + (sx * w) / 2, cy + (sy * h) / 2], c, angle), kind: handleKind(sx, sy),
  }));
  out.push({ id: "rot", at: rotate([cx, cy - h / 2 - ROTATE_OFFSET_PX / ctx.ppx], c, angle), kind: "rotate" });
  return out;
}

/**
 * Resizing a rotated box: the side or corner opposite the handle stays where it is on screen;
 * the pointer, taken into the box's own (turned) frame, gives the new width and/or height.
 */
function dragRotated(o: Shape, id: string, p: Pt, ctx: Ctx, shift: boolean): Shape {
  const next = reshaped(o, id, p, ctx, shift);
  // Every corner stays inside the image (the server refuses a box that leaves it): a turn or a
  // resize that would take one out stops where it is.
  const inside = rotatedCorners(next.box as number[]).every(
    ([x, y]) => x >= 0 && y >= 0 && x <= ctx.img.width && y <= ctx.img.height);
  return inside ? next : o;
}

function reshaped(o: Shape, id: string, p: Pt, ctx: Ctx, shift: boolean): Shape {
  const [cx, cy, w, h, angle] = o.box as [number, number, number, number, number];
  if (id === "rot") {
    const deg = (Math.atan2(p[0] - cx, cy - p[1]) * 180) / Math.PI;
    const turned = shift ? Math.round(deg / 15) * 15 : Math.round(deg * 10) / 10;
    return { ...o, box: [cx, cy, w, h, normAngle(turned)] };
  }
  const [sx, sy] = sides(id);
  const anchor = rotate([cx - (sx * w) / 2, cy - (sy * h) / 2], [cx, cy], angle);
  const local = rotate(p, anchor, -angle);
  const [dx, dy] = [local[0] - anchor[0], local[1] - anchor[1]];
  const nw = sx ? snap(Math.abs(dx), ctx.step) : w;
  const nh = sy ? snap(Math.abs(dy), ctx.step) : h;
  if (nw < ctx.step || nh < ctx.step) return o;
  const offset: Pt = [sx ? (Math.sign(dx) * nw) / 2 : 0, sy ? (Math.sign(dy) * nh) / 2 : 0];
  const centre = rotate([anchor[0] + offset[0], anchor[1] + offset[1]], anchor, angle);
  return { ...o, box: [snap(centre[0], ctx.step), snap(centre[1], ctx.step), nw, nh, angle] };
}

export const rotatedFamily: Family = {
  draw: "drag",
  hint: "Drag on the image to draw a box, then drag the handle above it to turn it (Shift: 15° steps).",
  render: (o) => {
    const [cx, cy, w, h, angle] = o.box as [number, number, number, number, number];
    return [
      <rect x={cx - w / 2} y={cy - h / 2} width={w} height={h} transform={`rotate(${angle} ${cx} ${cy})`} />,
      // The top edge, marked: a turned box's "up" must be visible.
      <line class="top-edge" x1={cx - w / 2} y1={cy - h / 2} x2={cx + w / 2} y2={cy - h / 2}
        transform={`rotate(${angle} ${cx} ${cy})`} />,
    ];
  },
  outline: (o) => rotatedCorners(o.box as number[]),
  translate: (o, dx, dy, ctx) => {
    const [mx, my] = clampMove(rotatedFamily.outline(o), dx, dy, ctx.img);
    const [cx, cy, w, h, angle] = o.box as [number, number, number, number, number];
    return { ...o, box: [cx + mx, cy + my, w, h, angle] };
  },
  handles: rotatedHandles,
  dragHandle: dragRotated,
  fromDrag: (a, b, label, ctx) => {
    const box = bboxFamily.fromDrag!(a, b, label, ctx)?.box;
    if (!box) return null;
    const [x1, y1, x2, y2] = box as [number, number, number, number];
    return { label, box: [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0] };
  },
  describe: (o) => {
    const [cx, cy, w, h, angle] = o.box as [number, number, number, number, number];
    return `centre ${num(cx)}, ${num(cy)}, ${num(w)} × ${num(h)}, turned ${num(angle)}°`;
  },
};

export const bbox = shapeKind(bboxFamily);
export const rotatedBbox = shapeKind(rotatedFamily);
