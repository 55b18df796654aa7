/**
 * Plane geometry in image pixels (docs/images.md: origin at the top-left corner, x to the right,
 * y down, the image's original size after EXIF orientation). Pure functions, no DOM.
 */

export type Pt = [number, number];

export interface Size {
  width: number;
  height: number;
}

export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The grid coordinates snap to: the coarsest of 1, 1/2, 1/4 … image pixel that still tells two
 * neighbouring screen pixels apart at `pxPerImagePx` screen pixels per image pixel. Binary
 * fractions are exact in JSON, so what the annotator pointed at is what gets stored.
 */
export function snapStep(pxPerImagePx: number): number {
  if (!(pxPerImagePx > 1)) return 1;
  return 2 ** -Math.ceil(Math.log2(pxPerImagePx) - 1e-9);
}

export function snap(v: number, step: number): number {
  const s = Math.round(v / step) * step;
  return Object.is(s, -0) ? 0 : s;
}

/** A point snapped to the grid and kept inside the image. */
export function snapPt(p: Pt, step: number, img: Size): Pt {
  return [clamp(snap(p[0], step), 0, img.width), clamp(snap(p[1], step), 0, img.height)];
}

export function dist(a: Pt, b: Pt): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** Signed area by the shoelace formula (positive when clockwise in y-down coordinates). */
export function area(points: Pt[]): number {
  let s = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    s += x1 * y2 - x2 * y1;
  }
  return s / 2;
}

/** The smallest axis-aligned box [x1, y1, x2, y2] holding the points. */
export function bounds(points: Pt[]): [number, number, number, number] {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  return [x1, y1, x2, y2];
}

/**
 * How far points may move by (dx, dy) and stay in the image: the move itself, cut short at the
 * image's edges (so a nudge at the border stops there instead of squashing the shape).
 */
export function clampMove(points: Pt[], dx: number, dy: number, img: Size): Pt {
  const [x1, y1, x2, y2] = bounds(points);
  return [clamp(dx, -x1, img.width - x2), clamp(dy, -y1, img.height - y2)];
}

/** An angle in degrees brought into (-180, 180]. */
export function normAngle(deg: number): number {
  let a = deg % 360;
  if (a <= -180) a += 360;
  if (a > 180) a -= 360;
  return Object.is(a, -0) ? 0 : a;
}

/** `p` rotated by `deg` degrees clockwise (on screen, y down) about `c`. */
export function rotate(p: Pt, c: Pt, deg: number): Pt {
  const r = (deg * Math.PI) / 180;
  const [dx, dy] = [p[0] - c[0], p[1] - c[1]];
  return [c[0] + dx * Math.cos(r) - dy * Math.sin(r), c[1] + dx * Math.sin(r) + dy * Math.cos(r)];
}

/** Corners of a rotated box [cx, cy, w, h, angle]: top-left, top-right, bottom-right, bottom-left before turning. */
export function rotatedCorners(box: number[]): Pt[] {
  const [cx, cy, w, h, angle] = box as [number, number, number, number, number];
  const c: Pt = [cx, cy];
  return ([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]] as Pt[]).map(
    ([x, y]) => rotate([cx + x, cy + y], c, angle),
  );
}
