/**
 * A shape family (boxes, polygons and polylines, keypoints, masks): how its objects are drawn,
 * moved, reshaped and described. The stage (Stage.tsx) does the rest for every family alike:
 * zoom and pan, selection, dragging, keys, undo and redo.
 */

import type { VNode } from "preact";
import type { ShapeQuestion } from "../types";
import type { Pt, Size } from "./geometry";
import type { Shape, ShapeUi } from "./shape";

export interface Ctx {
  q: ShapeQuestion;
  img: Size;
  /** Screen pixels per image pixel, now. */
  ppx: number;
  /** The grid coordinates snap to (geometry.snapStep). */
  step: number;
}

export type HandleKind = "corner" | "edge" | "vertex" | "mid" | "rotate" | "point";

export interface Handle {
  /** Stable within an object: "nw", "e", "rot", "v3" (vertex 3), "m3" (middle of edge 3), "p2". */
  id: string;
  at: Pt;
  kind: HandleKind;
  /** Shown as a word for the annotator (keypoints: the point's name). */
  title?: string;
}

/** What a click on the image did: a new value and state, or nothing (the stage does its default). */
export interface ClickResult {
  value?: Shape[];
  ui: ShapeUi;
}

/**
 * Points handed to a family are in image pixels, already snapped to the grid and inside the image.
 */
export interface Family {
  /** How the pointer makes a new object: drag a box, click points, place named points, paint. */
  draw: "drag" | "clicks" | "points" | "brush";
  /** One line for the annotator: how to draw. */
  hint: string;
  /** The object as SVG in image pixels, without handles. */
  render(o: Shape, q: ShapeQuestion): VNode | VNode[];
  /** Points that bound the object: it stays inside the image when moved; Tab brings them into view. */
  outline(o: Shape): Pt[];
  translate(o: Shape, dx: number, dy: number, ctx: Ctx): Shape;
  /** The selected object's handles. */
  handles?(o: Shape, ctx: Ctx): Handle[];
  /** The object with a handle dragged to `p` (`shift`: constrain, e.g. rotate by 15°). */
  dragHandle?(o: Shape, id: string, p: Pt, ctx: Ctx, shift: boolean): Shape;
  /** Delete with a handle selected: the object without that vertex or point, or why not. */
  removeHandle?(o: Shape, id: string, ctx: Ctx): Shape | string;
  /** draw "drag": the object spanned by a drag from a to b, or null when too small. */
  fromDrag?(a: Pt, b: Pt, label: string, ctx: Ctx): Shape | null;
  /** draw "clicks": whether the outline closes, the fewest points, and the finished object. */
  closed?: boolean;
  minPoints?: number;
  fromPoints?(points: Pt[], label: string, ctx: Ctx): Shape | string;
  /**
   * A click on the image that this family handles itself (keypoints: place the next point);
   * `hit` is the object under the pointer, if any.
   */
  click?(shapes: Shape[], ui: ShapeUi, p: Pt, ctx: Ctx, hit: number | null): ClickResult | null;
  /** draw "brush": the object after a stroke of radius r (null: nothing left of it). */
  stroke?(o: Shape | null, points: Pt[], radius: number, erase: boolean, label: string, ctx: Ctx): Shape | null;
  /** A key this family adds (keypoints: v, s; masks: e, [ ]). */
  key?(shapes: Shape[], ui: ShapeUi, key: string, ctx: Ctx): ClickResult | null;
  /** The object in words, for the list beside the image. */
  describe(o: Shape, q: ShapeQuestion): string;
  /** Why the server would refuse this object, or null. */
  problem?(o: Shape, q: ShapeQuestion): string | null;
  /** Masks: the project's segmenter proposes objects from a box and scribbles (canvas/propose.ts). */
  propose?: boolean;
}
