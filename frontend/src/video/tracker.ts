/**
 * The tracker (docs/video.md, "Workbench"): the server proposes a track's box on the next frames
 * from its box on the current one. The proposals are shown dashed; the annotator accepts them
 * (each becomes a keyframe), accepts them up to the frame on screen and corrects from there, or
 * stops (drops them). A request can be stopped while it runs.
 */

import { api } from "../api";
import { routeProject } from "../media";
import { setBox, type Track } from "./interpolate";
import type { Proposal } from "./tracks";

/** Frames asked for at a time. */
export const TRACK_FRAMES = 30;

type Answer = { frame: number; box: number[] }[] | { boxes?: { frame: number; box: number[] }[]; stopped?: string };

function valid(b: unknown, after: number): b is { frame: number; box: number[] } {
  const o = b as { frame?: unknown; box?: unknown } | null;
  return !!o && Number.isInteger(o.frame) && (o.frame as number) > after && Array.isArray(o.box) &&
    o.box.length === 4 && o.box.every((x) => typeof x === "number" && Number.isFinite(x));
}

let running: AbortController | null = null;

/** Asks the server; resolves to the proposal, or rejects with a message for the annotator. */
export async function askTracker(
  itemId: number, field: string, track: string, frame: number, box: number[], frames = TRACK_FRAMES,
): Promise<Proposal> {
  running?.abort();
  const ctl = new AbortController();
  running = ctl;
  const aborted = new Promise<never>((_, reject) =>
    ctl.signal.addEventListener("abort", () => reject(new Error("The tracker was stopped."))));
  try {
    const got = await Promise.race([
      api<Answer>("POST", `/api/projects/${routeProject()}/items/${itemId}/track`, { field, frame, box, frames }),
      aborted,
    ]);
    const list = Array.isArray(got) ? got : got.boxes ?? [];
    const boxes = list.filter((b) => valid(b, frame)).sort((p, q) => p.frame - q.frame);
    const stopped = Array.isArray(got) ? undefined : got.stopped;
    return stopped ? { track, from: frame, boxes, stopped } : { track, from: frame, boxes };
  } finally {
    if (running === ctl) running = null;
  }
}

export function stopTracker(): void {
  running?.abort();
}

/** The track with the proposed boxes up to frame `until` (all: Infinity) written as keyframes. */
export function acceptProposal(track: Track, p: Proposal, until: number): Track {
  let t = track;
  for (const b of p.boxes) if (b.frame <= until) t = setBox(t, b.frame, b.box);
  return t;
}

/** The proposed box at frame f, if any. */
export function proposedAt(p: Proposal | null | undefined, f: number): number[] | null {
  return p?.boxes.find((b) => b.frame === f)?.box ?? null;
}
