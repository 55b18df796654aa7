/**
 * Zoom and pan. The stage's SVG has the image's own size as its viewBox, so the browser fits the
 * image into the stage (letterboxed) and one SVG unit is one image pixel at zoom 1; the view is
 * the transform of the layer inside it: image point p shows at t + k·p (in those units).
 */

import { clamp, type Pt, type Size } from "./geometry";

export interface View {
  k: number;
  tx: number;
  ty: number;
}

export const FIT: View = { k: 1, tx: 0, ty: 0 };
export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 64;
/** One press of + or -, one notch of the wheel: a factor of √2 (two presses double). */
export const ZOOM_STEP = Math.SQRT2;

/** The view zoomed by `factor` about `at` (a point in stage units), which stays where it is. */
export function zoomAt(v: View, factor: number, at: Pt): View {
  const k = clamp(v.k * factor, MIN_ZOOM, MAX_ZOOM);
  const f = k / v.k;
  return { k, tx: at[0] - (at[0] - v.tx) * f, ty: at[1] - (at[1] - v.ty) * f };
}

export function pan(v: View, dx: number, dy: number): View {
  return { ...v, tx: v.tx + dx, ty: v.ty + dy };
}

/** The image point shown at stage point `s`. */
export function toImage(v: View, s: Pt): Pt {
  return [(s[0] - v.tx) / v.k, (s[1] - v.ty) / v.k];
}

/**
 * The view moved just enough that the box [x1, y1, x2, y2] (image pixels) is on screen, or the
 * same view when it already is (Tab to an object outside a zoomed-in view brings it in).
 */
export function reveal(v: View, box: [number, number, number, number], img: Size): View {
  const [x1, y1, x2, y2] = box;
  const visible = [-v.tx / v.k, -v.ty / v.k, (img.width - v.tx) / v.k, (img.height - v.ty) / v.k];
  if (x1 >= visible[0]! && y1 >= visible[1]! && x2 <= visible[2]! && y2 <= visible[3]!) return v;
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  return { ...v, tx: img.width / 2 - v.k * cx, ty: img.height / 2 - v.k * cy };
}

export function transform(v: View): string {
  return `translate(${v.tx} ${v.ty}) scale(${v.k})`;
}
