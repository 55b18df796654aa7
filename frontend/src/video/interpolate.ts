/**
 * Tracks of a `video_tracks` answer (docs/video.md, "Tracks"): the box of a track at any frame,
 * by the contract's rule (the server's `schema/types/video/interpolate.py` does the same), and
 * the edits the workbench makes on keyframes: set a box, mark outside / occluded, delete a
 * keyframe, split, merge. Every edit returns a new track and leaves its input as it was (the
 * page's undo keeps the old answer).
 *
 * Interpolation, for a track with keyframes k_0 < k_1 < ... (by frame):
 *   f < k_0.frame                     absent
 *   f = k_i.frame                     k_i.box, absent when k_i is outside
 *   k_i.frame < f < k_(i+1).frame     k_i outside: absent; k_(i+1) outside: k_i.box; else
 *                                     a + (b - a) * (f - fa) / (fb - fa), coordinate by coordinate
 *   f > last.frame                    last.box to the end of the video (absent when outside)
 * and `occluded` is the last keyframe's at or before f. Written in the same operation order as
 * the Python, so that both give the same floating-point numbers.
 *
 * This module imports nothing, so that a test can compile it alone and run it under Node
 * against the shared cases (tests/data/video/interpolation_cases.json).
 */

export interface Keyframe {
  frame: number;
  box: number[];
  outside: boolean;
  occluded: boolean;
}

export interface Track {
  id: string;
  label: string;
  attributes?: Record<string, string>;
  keyframes: Keyframe[];
}

/** A track's box at one frame, and whether it is a keyframe there (drawn solid) or interpolated. */
export interface BoxAt {
  box: number[];
  keyframe: boolean;
  occluded: boolean;
}

/** Index of the last keyframe at or before `f` (keyframes sorted by frame), or -1. */
export function keyframeIndexAtOrBefore(kfs: readonly Keyframe[], f: number): number {
  let lo = 0;
  let hi = kfs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (kfs[mid]!.frame <= f) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The box of `track` at frame `f`, or null where it has none. `frameCount`, when known, ends the
 * video: nothing at or after it.
 */
export function boxAt(track: Track, f: number, frameCount: number | null = null): BoxAt | null {
  const kfs = track.keyframes;
  if (frameCount !== null && f >= frameCount) return null;
  const i = keyframeIndexAtOrBefore(kfs, f);
  if (i < 0) return null;
  const a = kfs[i]!;
  if (a.outside) return null;
  if (a.frame === f) return { box: a.box.slice(), keyframe: true, occluded: a.occluded };
  const b = kfs[i + 1];
  if (b === undefined || b.outside) return { box: a.box.slice(), keyframe: false, occluded: a.occluded };
  const fa = a.frame;
  const fb = b.frame;
  const box = a.box.map((x, j) => x + (b.box[j]! - x) * (f - fa) / (fb - fa));
  return { box, keyframe: false, occluded: a.occluded };
}

/** Whether `f` is one of the track's keyframes. */
export function isKeyframe(track: Track, f: number): boolean {
  const i = keyframeIndexAtOrBefore(track.keyframes, f);
  return i >= 0 && track.keyframes[i]!.frame === f;
}

/** The track with `kf` in place of the keyframe at its frame, or added in frame order. */
export function withKeyframe(track: Track, kf: Keyframe): Track {
  const kfs = track.keyframes.filter((k) => k.frame !== kf.frame);
  kfs.push(kf);
  kfs.sort((p, q) => p.frame - q.frame);
  return { ...track, keyframes: kfs };
}

/** The track with `box` as a keyframe at `f` (moving or resizing a box on any frame makes one). */
export function setBox(track: Track, f: number, box: number[]): Track {
  const i = keyframeIndexAtOrBefore(track.keyframes, f);
  const occluded = i >= 0 ? track.keyframes[i]!.occluded : false;
  return withKeyframe(track, { frame: f, box: box.slice(), outside: false, occluded });
}

/** A new track with one keyframe. */
export function newTrack(id: string, label: string, f: number, box: number[]): Track {
  return { id, label, keyframes: [{ frame: f, box: box.slice(), outside: false, occluded: false }] };
}

/** An id not used by any of `tracks`: t1, t2, ... */
export function freshId(tracks: readonly Track[]): string {
  const used = new Set(tracks.map((t) => t.id));
  let n = tracks.length + 1;
  while (used.has(`t${n}`)) n += 1;
  return `t${n}`;
}

/** The box to keep on a keyframe at `f`: the shown one, else the last one the track had. */
function keptBox(track: Track, f: number): number[] | null {
  const shown = boxAt(track, f);
  if (shown) return shown.box;
  const i = keyframeIndexAtOrBefore(track.keyframes, f);
  return i >= 0 ? track.keyframes[i]!.box.slice() : null;
}

/**
 * The track marked outside from `f` on (a keyframe at f that is outside), or back in view when
 * the keyframe at f already is outside. The first keyframe never is: a string says why not.
 */
export function toggleOutside(track: Track, f: number): Track | string {
  const first = track.keyframes[0];
  if (!first || f < first.frame) return "The track does not start until later: nothing to mark here.";
  if (f === first.frame) return "The first keyframe cannot be outside: delete the track instead.";
  const i = keyframeIndexAtOrBefore(track.keyframes, f);
  const at = track.keyframes[i]!;
  if (at.frame === f) {
    return withKeyframe(track, { ...at, box: at.box.slice(), outside: !at.outside });
  }
  const box = keptBox(track, f)!;
  if (at.outside) return withKeyframe(track, { frame: f, box, outside: false, occluded: at.occluded });
  return withKeyframe(track, { frame: f, box, outside: true, occluded: at.occluded });
}

/** The track with `occluded` switched from `f` on (a keyframe at f, the box it shows there). */
export function toggleOccluded(track: Track, f: number): Track | string {
  const shown = boxAt(track, f);
  if (!shown) return "The track has no box on this frame.";
  const i = keyframeIndexAtOrBefore(track.keyframes, f);
  const at = track.keyframes[i]!;
  if (at.frame === f) return withKeyframe(track, { ...at, box: at.box.slice(), occluded: !at.occluded });
  return withKeyframe(track, { frame: f, box: shown.box, outside: false, occluded: !shown.occluded });
}

/**
 * The track without its keyframe at `f`: null when none is left that shows a box (the track
 * goes), a string when there is no keyframe at f. Leading `outside` keyframes are dropped.
 */
export function deleteKeyframe(track: Track, f: number): Track | null | string {
  if (!isKeyframe(track, f)) return `Frame ${f} is not a keyframe of this track.`;
  return tidy({ ...track, keyframes: track.keyframes.filter((k) => k.frame !== f) });
}

/** A track whose first keyframe shows a box, or null when no keyframe does. */
function tidy(track: Track): Track | null {
  const start = track.keyframes.findIndex((k) => !k.outside);
  if (start < 0) return null;
  return start === 0 ? track : { ...track, keyframes: track.keyframes.slice(start) };
}

/**
 * Split at frame f (docs/video.md): the track ends with an `outside` keyframe at f (its
 * interpolated box at f - 1 kept as a keyframe when f - 1 is not one), and a new track, `id`,
 * starts with the box at f as its first keyframe and the keyframes after f.
 */
export function split(track: Track, f: number, id: string): [Track, Track] | string {
  const first = track.keyframes[0];
  const at = boxAt(track, f);
  if (!first || !at) return "The track has no box on this frame: nothing to split.";
  if (f <= first.frame) return "Split after the track's first frame: there is nothing before this one.";
  let head = track.keyframes.filter((k) => k.frame < f);
  const before = boxAt(track, f - 1);
  if (before && !isKeyframe(track, f - 1)) {
    head = [...head, { frame: f - 1, box: before.box, outside: false, occluded: before.occluded }];
  }
  head = [...head, { frame: f, box: at.box.slice(), outside: true, occluded: false }];
  const tail: Keyframe[] = [
    { frame: f, box: at.box.slice(), outside: false, occluded: at.occluded },
    ...track.keyframes.filter((k) => k.frame > f).map((k) => ({ ...k, box: k.box.slice() })),
  ];
  const rest: Track = { id, label: track.label, keyframes: tail };
  if (track.attributes) rest.attributes = { ...track.attributes };
  return [{ ...track, keyframes: head }, rest];
}

/** The last frame of a track's keyframes, plus one (where "to the end of the video" starts). */
function span(track: Track): number {
  const last = track.keyframes[track.keyframes.length - 1];
  return last ? last.frame + 1 : 0;
}

/**
 * The keyframes that still say something among another track's (as the server's `edit.py`): an
 * `outside` while the track is already gone is dropped (it would end the other's box), and the
 * box held before an `outside` gets a keyframe at the frame before it (the other track's box may
 * follow there, and the frames between must not start to interpolate towards it).
 */
function needed(kfs: readonly Keyframe[]): Keyframe[] {
  const out: Keyframe[] = [];
  for (const k of kfs) {
    if (k.outside) {
      const last = out[out.length - 1];
      if (!last || last.outside) continue;
      if (last.frame < k.frame - 1) {
        const held = boxAt({ id: "", label: "", keyframes: kfs as Keyframe[] }, k.frame - 1);
        out.push({ ...last, frame: k.frame - 1, box: held ? held.box : last.box.slice() });
      }
    }
    out.push({ ...k, box: k.box.slice() });
  }
  return out;
}

/**
 * Merge track b into a (docs/video.md): the union of the keyframes under a's id, label and
 * attributes, refused (a string) when some frame shows a box of both. On a frame where both
 * have a keyframe, the one that shows a box is kept (a ends outside where b begins).
 */
export function merge(a: Track, b: Track, frameCount: number | null): Track | string {
  const end = frameCount ?? Math.max(span(a), span(b)) + 1;
  for (let f = 0; f < end; f++) {
    if (boxAt(a, f, frameCount) && boxAt(b, f, frameCount)) {
      return `Both tracks have a box on frame ${f}: end one (outside) before the other starts.`;
    }
  }
  const byFrame = new Map<number, Keyframe>();
  for (const k of [...needed(a.keyframes), ...needed(b.keyframes)]) {
    const had = byFrame.get(k.frame);
    if (!had || (had.outside && !k.outside)) byFrame.set(k.frame, { ...k, box: k.box.slice() });
  }
  const keyframes = [...byFrame.values()].sort((p, q) => p.frame - q.frame);
  return tidy({ ...a, keyframes }) ?? "The merged track would show no box.";
}
