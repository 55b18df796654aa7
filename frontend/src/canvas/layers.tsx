/**
 * The stage's SVG layers that are not the stage's own logic: the answer's objects (drawn again
 * only when they change), a handle, and the prompt of an interactive mask.
 */

import { Component } from "preact";
import type { ShapeQuestion } from "../types";
import type { Family, Handle } from "./family";
import type { Pt } from "./geometry";
import { colourOf, HIDDEN, LOCKED, type Proposing, type Shape } from "./shape";

export interface ObjectsProps {
  family: Family;
  q: ShapeQuestion;
  shapes: Shape[];
  selected: number | null;
  /** The object drawn by the live layer instead (being dragged). */
  skip: number | null;
  flags: Map<Shape, number> | undefined;
}

/** Every object but the one being dragged; drawn again only when its props change. */
export class Objects extends Component<ObjectsProps> {
  shouldComponentUpdate(next: ObjectsProps): boolean {
    const p = this.props;
    return p.shapes !== next.shapes || p.selected !== next.selected || p.skip !== next.skip ||
      p.flags !== next.flags || p.q !== next.q || p.family !== next.family;
  }

  render({ family, q, shapes, selected, skip, flags }: ObjectsProps) {
    return (
      <g class="objects">
        {shapes.map((o, i) => {
          const f = flags?.get(o) ?? 0;
          if (i === skip || f & HIDDEN) return null;
          const cls = `obj ${colourOf(q, o.label)}${i === selected ? " sel" : ""}${f & LOCKED ? " locked" : ""}`;
          return <g class={cls} data-obj={i}>{family.render(o, q)}</g>;
        })}
      </g>
    );
  }
}

export function HandleMark({ h, ppx, on }: { h: Handle; ppx: number; on: boolean }) {
  const r = (h.kind === "mid" ? 4 : 6) / ppx;
  return (
    <circle class={`handle ${h.kind}${on ? " on" : ""}`} data-handle={h.id} cx={h.at[0]} cy={h.at[1]} r={r}>
      {h.title && <title>{h.title}</title>}
    </circle>
  );
}

/** The box from a to b on the grid, for families that draw no boxes themselves (masks). */
export function bboxOf(a: Pt, b: Pt, step: number): Shape | null {
  const box = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  return box[2]! - box[0]! >= step && box[3]! - box[1]! >= step ? { label: "", box } : null;
}

/** A mask prompt on the image: the box (dashed) and the scribbles inside (green) and outside (red). */
export function Prompt({ p, ppx }: { p: Proposing; ppx: number }) {
  const line = (pts: Pt[]) => pts.map((x) => x.join(",")).join(" ");
  return (
    <g class="prompt-layer">
      {p.box && <rect class="drawing prompt" x={p.box[0]} y={p.box[1]} width={p.box[2]! - p.box[0]!} height={p.box[3]! - p.box[1]!} />}
      {p.inside.map((pts) => pts.length > 1 ? <polyline class="scribble inside" points={line(pts)} />
        : <circle class="scribble inside" cx={pts[0]![0]} cy={pts[0]![1]} r={3 / ppx} />)}
      {p.outside.map((pts) => pts.length > 1 ? <polyline class="scribble outside" points={line(pts)} />
        : <circle class="scribble outside" cx={pts[0]![0]} cy={pts[0]![1]} r={3 / ppx} />)}
    </g>
  );
}
