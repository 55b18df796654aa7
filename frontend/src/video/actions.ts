/**
 * What the workbench does to a `video_tracks` answer at the frame on screen, shared by the
 * buttons (Panel.tsx), the keys (keys.ts) and the stage (Stage.tsx). Each returns nothing and
 * commits through `set`/`setUi`; what cannot be done is said in the notice, and changes nothing.
 */

import type { VideoTracksQuestion } from "../types";
import { deleteKeyframe, freshId, merge, split, toggleOccluded, toggleOutside, type Track } from "./interpolate";
import type { FrameClock } from "./player";
import { acceptProposal, askTracker, stopTracker } from "./tracker";
import { labelsOf, replaceShape, replaceTrack, shapeOn, trackIndex, tracksOf, type TracksValue, type VideoUi } from "./tracks";
import { boxAt } from "./interpolate";

export interface TrackActions {
  q: VideoTracksQuestion;
  value: TracksValue;
  ui: VideoUi;
  set: (v: TracksValue) => void;
  setUi: (u: VideoUi) => void;
  clock: FrameClock;
  frameCount: number | null;
  itemId: number | undefined;
}

/** The frame edits apply to: the one on screen. */
export function frameOf(a: TrackActions): number {
  const s = a.clock.state;
  return s.frame >= 0 ? s.frame : s.target;
}

function selected(a: TrackActions): [number, Track] | string {
  const i = trackIndex(a.value, a.ui.selected);
  if (i === null) return "Select a track first (click its box, or Tab).";
  return [i, a.value.tracks[i]!];
}

function edit(a: TrackActions, how: (t: Track, f: number) => Track | null | string, said: (f: number) => string): void {
  const s = selected(a);
  if (typeof s === "string") return a.setUi({ ...a.ui, notice: s });
  const [i, t] = s;
  const f = frameOf(a);
  const next = how(t, f);
  if (typeof next === "string") return a.setUi({ ...a.ui, notice: next });
  a.set(replaceTrack(a.value, i, next));
  a.setUi({ ...a.ui, selected: next ? next.id : null, notice: next ? said(f) : `Track ${t.id} removed: no keyframe left.` });
}

export function outside(a: TrackActions): void {
  edit(a, toggleOutside, (f) => `Outside from frame ${f} (or back in view).`);
}

export function occluded(a: TrackActions): void {
  edit(a, toggleOccluded, (f) => `Occluded switched from frame ${f}.`);
}

export function removeKeyframe(a: TrackActions): void {
  edit(a, deleteKeyframe, (f) => `Keyframe at frame ${f} deleted.`);
}

/** Per-frame mode on or off: in it a drawn box is a shape on this frame only. */
export function togglePerFrame(a: TrackActions): void {
  const on = !a.ui.perFrame;
  a.setUi({
    ...a.ui, perFrame: on,
    notice: on ? "Per-frame shapes: a box drawn now is on this frame only (f: tracks again)." : "Tracks: a box drawn now starts a track.",
  });
}

/** Select per-frame shape i (and no track). */
export function selectShape(a: TrackActions, i: number | null): void {
  a.setUi({ ...a.ui, shape: i, selected: i === null ? a.ui.selected : null, notice: "" });
}

/** Remove the selected per-frame shape on the frame on screen; false when none is selected here. */
export function removeShape(a: TrackActions): boolean {
  const i = shapeOn(a.value, a.ui, frameOf(a));
  if (i === null) return false;
  const sh = a.value.shapes[i]!;
  a.set(replaceShape(a.value, i, null));
  a.setUi({ ...a.ui, shape: null, notice: `The ${sh.label} shape on frame ${sh.frame} removed.` });
  return true;
}

export function removeTrack(a: TrackActions): void {
  const s = selected(a);
  if (typeof s === "string") return a.setUi({ ...a.ui, notice: s });
  a.set(replaceTrack(a.value, s[0], null));
  a.setUi({ ...a.ui, selected: null, proposal: null, notice: `Track ${s[1].id} removed.` });
}

export function splitHere(a: TrackActions): void {
  const s = selected(a);
  if (typeof s === "string") return a.setUi({ ...a.ui, notice: s });
  const [i, t] = s;
  const f = frameOf(a);
  const r = split(t, f, freshId(a.value.tracks));
  if (typeof r === "string") return a.setUi({ ...a.ui, notice: r });
  a.set(replaceTrack(a.value, i, r[0], [r[1]]));
  a.setUi({ ...a.ui, selected: r[1].id, notice: `Track ${t.id} split at frame ${f}: the rest is track ${r[1].id}.` });
}

/** Merge track `other` (by id) into the selected one. */
export function mergeInto(a: TrackActions, other: string): void {
  const s = selected(a);
  if (typeof s === "string") return a.setUi({ ...a.ui, notice: s });
  const [i, t] = s;
  const j = trackIndex(a.value, other);
  if (j === null || j === i) return a.setUi({ ...a.ui, notice: "Choose another track to merge." });
  const r = merge(t, a.value.tracks[j]!, a.frameCount);
  if (typeof r === "string") return a.setUi({ ...a.ui, notice: r });
  const tracks = a.value.tracks.slice();
  tracks[i] = r;
  tracks.splice(j, 1);
  a.set({ ...a.value, tracks });
  a.setUi({ ...a.ui, selected: r.id, notice: `Track ${other} merged into ${t.id}.` });
}

export function relabel(a: TrackActions, label: number): void {
  const s = selected(a);
  const value = labelsOf(a.q)[label]!.value;
  const k = shapeOn(a.value, a.ui, frameOf(a));
  if (k !== null) {
    a.set(replaceShape(a.value, k, { ...a.value.shapes[k]!, label: value }));
    return a.setUi({ ...a.ui, label, notice: `The shape on frame ${a.value.shapes[k]!.frame} is now ${value}.` });
  }
  if (typeof s === "string") return a.setUi({ ...a.ui, label, notice: "" });
  a.set(replaceTrack(a.value, s[0], { ...s[1], label: value }));
  a.setUi({ ...a.ui, label, notice: `Track ${s[1].id} is now ${value}.` });
}

/** Ask the tracker for the selected track's box on the next frames. */
export function track(a: TrackActions, field: string, get: () => TrackActions): void {
  const s = selected(a);
  if (typeof s === "string") return a.setUi({ ...a.ui, notice: s });
  if (a.itemId === undefined) return a.setUi({ ...a.ui, notice: "The tracker works on a stored item only." });
  const f = frameOf(a);
  const shown = boxAt(s[1], f, a.frameCount);
  if (!shown) return a.setUi({ ...a.ui, notice: "The track has no box on this frame to track from." });
  a.setUi({ ...a.ui, tracking: true, proposal: null, notice: "" });
  askTracker(a.itemId, field, s[1].id, f, shown.box)
    .then((p) => {
      const now = get();
      const why = p.stopped === "lost" ? " (then it lost the object)" : p.stopped === "end" ? " (to the end of the video)" : "";
      const notice = p.boxes.length
        ? `The tracker proposes ${p.boxes.length} frames${why}, dashed: y accepts them, Escape drops them.`
        : "The tracker lost the object at once: nothing proposed.";
      now.setUi({ ...now.ui, tracking: false, proposal: p.boxes.length ? p : null, notice });
    })
    .catch((e: unknown) => {
      const now = get();
      now.setUi({ ...now.ui, tracking: false, notice: e instanceof Error ? e.message : String(e) });
    });
}

/** Write the proposals as keyframes: all of them, or those up to the frame on screen. */
export function acceptTracked(a: TrackActions, all: boolean): void {
  const p = a.ui.proposal;
  if (!p) return a.setUi({ ...a.ui, notice: "No proposals to accept." });
  const i = trackIndex(a.value, p.track);
  if (i === null) return a.setUi({ ...a.ui, proposal: null, notice: "The track is gone." });
  const until = all ? Infinity : frameOf(a);
  const n = p.boxes.filter((b) => b.frame <= until).length;
  a.set(replaceTrack(a.value, i, acceptProposal(a.value.tracks[i]!, p, until)));
  a.setUi({ ...a.ui, selected: p.track, proposal: null, notice: `${n} keyframes written from the tracker.` });
}

export function stopTracking(a: TrackActions): boolean {
  if (a.ui.tracking) {
    stopTracker();
    a.setUi({ ...a.ui, tracking: false, notice: "The tracker was stopped." });
    return true;
  }
  if (a.ui.proposal) {
    a.setUi({ ...a.ui, proposal: null, notice: "The proposals were dropped." });
    return true;
  }
  return false;
}

export function nextTrack(a: TrackActions, by: number): void {
  const n = a.value.tracks.length;
  if (!n) return a.setUi({ ...a.ui, notice: "No tracks yet: drag on the video to draw one." });
  const i = trackIndex(a.value, a.ui.selected);
  const j = i === null ? (by > 0 ? 0 : n - 1) : (i + by + n) % n;
  a.setUi({ ...a.ui, selected: a.value.tracks[j]!.id, shape: null, notice: "" });
}

export { tracksOf };
