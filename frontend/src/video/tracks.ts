/**
 * The value of a `video_tracks` question (`{tracks, shapes}`, docs/video.md) and the page's own
 * state beside it (never stored): the class for new tracks, the selected track, the tracker's
 * proposals waiting for the annotator, the last notice.
 */

import type { SpanLabel, VideoSegmentsQuestion, VideoTracksQuestion } from "../types";
import type { Track } from "./interpolate";

export interface FrameShape {
  frame: number;
  label: string;
  box: number[];
  attributes?: Record<string, string>;
}

export interface TracksValue {
  tracks: Track[];
  shapes: FrameShape[];
}

/** Boxes the tracker proposed for a track on the frames after `from`, not yet accepted. */
export interface Proposal {
  track: string;
  from: number;
  boxes: { frame: number; box: number[] }[];
  /** Why the tracker stopped: `lost` (the object), `end` (of the video), `limit` (the frames asked). */
  stopped?: string;
}

export interface VideoUi {
  /** Index of the class that new tracks (and events) get. */
  label?: number;
  /** The selected track, by id. */
  selected?: string | null;
  /** Per-frame mode (`f`): a drawn box is a shape on the frame on screen only, not a track. */
  perFrame?: boolean;
  /** The selected per-frame shape, by its index in `shapes` (never with a selected track). */
  shape?: number | null;
  /** Others' values (review layers, the model's) hidden, by OtherValue id. */
  off?: string[];
  /** Events: the start marked with `[`, waiting for `]`. */
  mark?: number | null;
  /** The mark was made by `]` (an end: `[` makes the event). */
  markEnd?: boolean;
  proposal?: Proposal | null;
  /** The tracker is working (its request can be stopped). */
  tracking?: boolean;
  notice?: string;
}

export const EMPTY: TracksValue = { tracks: [], shapes: [] };

export function tracksOf(value: unknown): TracksValue {
  const v = value as Partial<TracksValue> | null | undefined;
  if (!v || typeof v !== "object") return EMPTY;
  return { tracks: Array.isArray(v.tracks) ? v.tracks : [], shapes: Array.isArray(v.shapes) ? v.shapes : [] };
}

/** The question's classes as `{value, label, key}` (a schema may give plain strings). */
export function labelsOf(q: VideoTracksQuestion | VideoSegmentsQuestion): SpanLabel[] {
  return q.labels.map((l) => (typeof l === "string" ? { value: l } : l));
}

export function trackIndex(v: TracksValue, id: string | null | undefined): number | null {
  if (!id) return null;
  const i = v.tracks.findIndex((t) => t.id === id);
  return i >= 0 ? i : null;
}

export function replaceTrack(v: TracksValue, i: number, t: Track | null, extra: Track[] = []): TracksValue {
  const tracks = v.tracks.slice();
  if (t) tracks.splice(i, 1, t, ...extra);
  else tracks.splice(i, 1, ...extra);
  return { ...v, tracks };
}

/** Why the value cannot be submitted (the server checks the rest: frames, boxes inside the frame). */
export function tracksProblem(_q: VideoTracksQuestion, value: unknown): string | null {
  const { tracks } = tracksOf(value);
  const ids = new Set<string>();
  for (const [i, t] of tracks.entries()) {
    if (ids.has(t.id)) return `track ${i + 1}: the id ${t.id} is used twice`;
    ids.add(t.id);
    const first = t.keyframes[0];
    if (!first) return `track ${i + 1} has no keyframe`;
    if (first.outside) return `track ${i + 1}: its first keyframe is outside`;
    for (let k = 1; k < t.keyframes.length; k++) {
      if (t.keyframes[k]!.frame <= t.keyframes[k - 1]!.frame) return `track ${i + 1}: keyframes out of order`;
    }
  }
  return null;
}

export function replaceShape(v: TracksValue, i: number, s: FrameShape | null): TracksValue {
  const shapes = v.shapes.slice();
  if (s) shapes.splice(i, 1, s);
  else shapes.splice(i, 1);
  return { ...v, shapes };
}

/** The selected shape's index when it is still there and on `frame`. */
export function shapeOn(v: TracksValue, ui: VideoUi, frame: number): number | null {
  const i = ui.shape;
  return i !== null && i !== undefined && v.shapes[i]?.frame === frame ? i : null;
}

export const num = (v: number) => String(Math.round(v * 100) / 100);
