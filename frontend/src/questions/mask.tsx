/**
 * Masks: `{"label", "rle": {"size": [height, width], "counts": "…"}}`, COCO's compressed RLE of
 * the image's own size (docs/images.md; canvas/rle.ts). Paint with the brush: a stroke goes into
 * the selected mask, or starts a new one with the current class; e switches to the eraser;
 * [ and ] make the brush smaller and larger. A click (no stroke) on another mask selects it.
 * p proposes a mask from a box and scribbles instead (canvas/propose.ts).
 */

import type { ClickResult, Ctx, Family } from "../canvas/family";
import { clamp, type Pt } from "../canvas/geometry";
import { shapeKind } from "../canvas/kind";
import { maskBounds, shiftRle, strokeRle } from "../canvas/mask";
import { proposeKey } from "../canvas/propose";
import { area, rects, type Rle } from "../canvas/rle";
import { brushRadius, type Shape, type ShapeUi } from "../canvas/shape";

// Paths are built once per RLE object: the layer is drawn again on every selection change.
const paths = new WeakMap<Rle, string>();

function pathOf(rle: Rle): string {
  let d = paths.get(rle);
  if (d === undefined) {
    try {
      d = rects(rle).map(([x, y, len, w]) => `M${x} ${y}h${w}v${len}h${-w}z`).join("");
    } catch {
      d = ""; // a broken RLE draws nothing; the server names it on submit
    }
    paths.set(rle, d);
  }
  return d;
}

// Areas, once per RLE object: the list beside the image describes every mask at each change.
const areas = new WeakMap<Rle, number>();

function areaOf(rle: Rle): number {
  let n = areas.get(rle);
  if (n === undefined) {
    try {
      n = area(rle);
    } catch {
      n = 0;
    }
    areas.set(rle, n);
  }
  return n;
}

function key(shapes: Shape[], ui: ShapeUi, k: string, ctx: Ctx): ClickResult | null {
  const proposed = proposeKey(shapes, ui, k);
  if (proposed) return proposed;
  const r = brushRadius(ui, ctx.img);
  if (k === "e") {
    const erase = !ui.erase;
    return { ui: { ...ui, erase, notice: erase ? "Eraser: strokes clear the selected mask." : "Brush: strokes paint." } };
  }
  if (k === "]" || k === "[") {
    // A quarter larger or smaller each press, and at least one pixel.
    const next = k === "]" ? Math.max(r + 1, Math.round(r * 1.25)) : Math.min(r - 1, Math.round(r / 1.25));
    const brush = clamp(next, 1, 1000);
    return { ui: { ...ui, brush, notice: `Brush radius ${brush} px.` } };
  }
  return null;
}

export const maskFamily: Family = {
  draw: "brush",
  hint: "Paint with the brush ([ ] change its size, e switches to the eraser); a stroke goes into the selected mask, or starts a new one. p: propose a mask from a box.",
  propose: true,
  render: (o) => <path class="mask" d={pathOf(o.rle!)} />,
  outline: (o) => {
    const b = o.rle ? maskBounds(o.rle) : null;
    return b ? [[b[0], b[1]], [b[2], b[3]]] : [];
  },
  translate: (o, dx, dy, ctx) => {
    const b = maskBounds(o.rle!);
    if (!b) return o;
    // Masks move by whole pixels, and not past the image's edges.
    const mx = clamp(Math.round(dx), -b[0], ctx.img.width - b[2]);
    const my = clamp(Math.round(dy), -b[1], ctx.img.height - b[3]);
    return mx || my ? { ...o, rle: shiftRle(o.rle!, ctx.img, mx, my) } : o;
  },
  stroke: (o, points: Pt[], radius, erase, label, ctx) => {
    const rle = strokeRle(o?.rle ?? null, ctx.img, points, radius, erase);
    return rle ? { ...(o ?? { label }), rle } : null;
  },
  key,
  describe: (o) => `${areaOf(o.rle!).toLocaleString("en-US")} pixels`,
  problem: (o) => (o.rle && areaOf(o.rle) > 0 ? null : "a mask needs at least one pixel"),
};

export const mask = shapeKind(maskFamily);
