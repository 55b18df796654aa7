/**
 * Polygons (`{"label", "points": [[x, y], …]}`, at least 3 points enclosing an area) and
 * polylines (at least 2 distinct points); docs/images.md. Click the points; Enter or a double
 * click finishes, Backspace takes the last point back, Escape gives up. A selected outline shows
 * its vertices (drag one; click one, then Delete removes it) and the middle of each edge (drag
 * it to add a vertex there).
 */

import type { Family, Handle } from "../canvas/family";
import { area, clampMove, dist, snapPt, type Pt } from "../canvas/geometry";
import { shapeKind } from "../canvas/kind";
import type { Shape } from "../canvas/shape";

const pointsOf = (o: Shape) => o.points as Pt[];
const svgPoints = (pts: Pt[]) => pts.map(([x, y]) => `${x},${y}`).join(" ");
const num = (v: number) => String(Math.round(v * 100) / 100);

function polyFamily(closed: boolean): Family {
  const least = closed ? 3 : 2;
  const what = closed ? "polygon" : "polyline";
  const self: Family = {
    draw: "clicks",
    closed,
    minPoints: least,
    hint: `Click the points of a ${what}; Enter or a double click finishes it, Backspace takes the last point back.`,
    render: (o) =>
      closed ? <polygon points={svgPoints(pointsOf(o))} />
        // A line is hard to hit: a wider, invisible stroke under it takes the pointer.
        : [<polyline class="hit" points={svgPoints(pointsOf(o))} />, <polyline points={svgPoints(pointsOf(o))} />],
    outline: pointsOf,
    translate: (o, dx, dy, ctx) => {
      const [mx, my] = clampMove(pointsOf(o), dx, dy, ctx.img);
      return { ...o, points: pointsOf(o).map(([x, y]) => [x + mx, y + my]) };
    },
    handles: (o) => {
      const pts = pointsOf(o);
      const out: Handle[] = pts.map((at, i) => ({ id: `v${i}`, at, kind: "vertex" }));
      const edges = closed ? pts.length : pts.length - 1;
      for (let i = 0; i < edges; i++) {
        const [a, b] = [pts[i]!, pts[(i + 1) % pts.length]!];
        out.push({ id: `m${i}`, at: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], kind: "mid" });
      }
      return out;
    },
    dragHandle: (o, id, p, ctx) => {
      const pts = pointsOf(o).slice();
      const i = Number(id.slice(1));
      const at = snapPt(p, ctx.step, ctx.img);
      if (id.startsWith("v")) pts[i] = at;
      else pts.splice(i + 1, 0, at); // the middle of edge i becomes a vertex
      return { ...o, points: pts };
    },
    removeHandle: (o, id) => {
      const pts = pointsOf(o);
      if (!id.startsWith("v")) return "only a vertex can be removed";
      if (pts.length <= least) return `a ${what} needs at least ${least} points (Delete again removes the whole ${what})`;
      const i = Number(id.slice(1));
      return { ...o, points: pts.filter((_, j) => j !== i) };
    },
    fromPoints: (pts, label) => {
      const o = { label, points: pts.map(([x, y]) => [x, y]) };
      return self.problem!(o, undefined as never) ?? o;
    },
    problem: (o) => {
      const pts = pointsOf(o);
      if (pts.length < least) return `a ${what} needs at least ${least} points`;
      const repeat = pts.findIndex((p, i) => (i > 0 || closed) && dist(p, pts[(i + pts.length - 1) % pts.length]!) === 0);
      if (repeat >= 0) return `point ${repeat + 1} repeats the point before it`;
      if (closed && area(pts) === 0) return "a polygon must enclose an area";
      if (!closed && pts.every((p) => dist(p, pts[0]!) === 0)) return "a polyline needs two different points";
      return null;
    },
    describe: (o) => {
      const pts = pointsOf(o);
      const [x, y] = pts[0] ?? [0, 0];
      return `${pts.length} points from ${num(x)}, ${num(y)}`;
    },
  };
  return self;
}

export const polygonFamily = polyFamily(true);
export const polylineFamily = polyFamily(false);
export const polygon = shapeKind(polygonFamily);
export const polyline = shapeKind(polylineFamily);
