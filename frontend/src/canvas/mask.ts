/**
 * Brush strokes on column-major masks (pixel (x, y) at x * height + y, as COCO's RLE reads them).
 *
 * A pixel is the unit square [x, x+1) × [y, y+1); a stroke of radius r through points p0 … pn
 * covers the pixels whose centre (x + ½, y + ½) lies within r of the polyline (a single point:
 * a disc). Distances are compared squared, so the rule is exact for the binary fractions the
 * canvas snaps to, and a test can compute the same mask independently.
 */

import { clamp, type Pt, type Size } from "./geometry";
import { decode, encode, forEachRun, type Rle } from "./rle";

export function emptyMask(img: Size): Uint8Array {
  return new Uint8Array(img.width * img.height);
}

/** Sets (or, erasing, clears) the pixels the stroke covers; returns whether any changed. */
export function paintStroke(mask: Uint8Array, img: Size, points: Pt[], radius: number, value: 0 | 1): boolean {
  const h = img.height;
  const r2 = radius * radius;
  let changed = false;
  const segs: [Pt, Pt][] = points.length === 1 ? [[points[0]!, points[0]!]] : [];
  for (let i = 1; i < points.length; i++) segs.push([points[i - 1]!, points[i]!]);
  for (const [a, b] of segs) {
    const x0 = clamp(Math.floor(Math.min(a[0], b[0]) - radius - 0.5), 0, img.width - 1);
    const x1 = clamp(Math.ceil(Math.max(a[0], b[0]) + radius - 0.5), 0, img.width - 1);
    const y0 = clamp(Math.floor(Math.min(a[1], b[1]) - radius - 0.5), 0, h - 1);
    const y1 = clamp(Math.ceil(Math.max(a[1], b[1]) + radius - 0.5), 0, h - 1);
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len2 = dx * dx + dy * dy;
    for (let x = x0; x <= x1; x++) {
      const cx = x + 0.5;
      for (let y = y0; y <= y1; y++) {
        const cy = y + 0.5;
        let t = len2 ? ((cx - a[0]) * dx + (cy - a[1]) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = cx - (a[0] + t * dx);
        const ey = cy - (a[1] + t * dy);
        if (ex * ex + ey * ey <= r2) {
          const i = x * h + y;
          if (mask[i] !== value) {
            mask[i] = value;
            changed = true;
          }
        }
      }
    }
  }
  return changed;
}

/** The mask moved by whole pixels (dx, dy); what leaves the image is cut off. */
export function shiftMask(mask: Uint8Array, img: Size, dx: number, dy: number): Uint8Array {
  const { width: w, height: h } = img;
  const out = new Uint8Array(mask.length);
  for (let x = Math.max(0, -dx); x < Math.min(w, w - dx); x++) {
    const from = x * h;
    const to = (x + dx) * h;
    const y0 = Math.max(0, -dy);
    const y1 = Math.min(h, h - dy);
    if (y1 > y0) out.set(mask.subarray(from + y0, from + y1), to + y0 + dy);
  }
  return out;
}

/** The pixel box [x1, y1, x2, y2] (x2, y2 exclusive) holding every set pixel, or null for an empty mask. */
export function maskBounds(rle: Rle): [number, number, number, number] | null {
  const h = rle.size[0];
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  forEachRun(rle, (start, length) => {
    const first = Math.floor(start / h);
    const last = Math.floor((start + length - 1) / h);
    x1 = Math.min(x1, first);
    x2 = Math.max(x2, last + 1);
    if (first !== last) {
      y1 = 0;
      y2 = h;
    } else {
      y1 = Math.min(y1, start - first * h);
      y2 = Math.max(y2, start - first * h + length);
    }
  });
  return x1 === Infinity ? null : [x1, y1, x2, y2];
}

/** The RLE with a stroke painted in or erased; null when nothing would be left. */
export function strokeRle(rle: Rle | null, img: Size, points: Pt[], radius: number, erase: boolean): Rle | null {
  const mask = rle ? decode(rle) : emptyMask(img);
  paintStroke(mask, img, points, radius, erase ? 0 : 1);
  return mask.includes(1) ? encode(mask, img.height, img.width) : null;
}

export function shiftRle(rle: Rle, img: Size, dx: number, dy: number): Rle {
  return encode(shiftMask(decode(rle), img, dx, dy), img.height, img.width);
}
