/**
 * Interactive masks: a box (and scribbles inside and outside the object) in, a mask proposal out,
 * from the project's segmenter (`POST /api/projects/{id}/items/{item}/segment`, body `{box,
 * foreground, background, field}` in the original image's pixels; answer `{rle, area, segmenter,
 * worked_on}`, the RLE of the original's size). The proposal goes into the answer at once as a
 * mask object, selected: y keeps it (then the brush refines it), x discards it, and more
 * scribbles ask again and replace it. Only the answer to the newest prompt is used.
 */

import type { RefObject } from "preact";
import { useRef, useState } from "preact/hooks";
import { ApiError, api, errorText, NetworkError } from "../api";
import { routeProject } from "../media";
import type { Pt } from "./geometry";
import type { StageActions } from "./keys";
import type { Rle } from "./rle";
import { replaced, type Proposing, type Shape, type ShapeUi } from "./shape";
import { count } from "./words";

/** How long a proposal may take before the page gives up on it. */
export const PROPOSE_TIMEOUT_MS = 60_000;
/** The server takes at most 10,000 points a side; a long scribble is thinned to this many. */
const MAX_POINTS = 2000;

interface SegmentOut {
  rle: Rle;
  area: number;
  segmenter: string;
  worked_on: string;
}

export const EMPTY_PROMPT: Proposing = { tool: "box", box: null, inside: [], outside: [], target: null };

export const PROPOSE_KEYS =
  "drag a box around the object; i and o scribble inside / outside it, b draws the box again; y keeps the proposal, x discards it.";

class Timeout extends Error {}

function thinned(strokes: Pt[][]): number[][] {
  const all = strokes.flat();
  const every = Math.ceil(all.length / MAX_POINTS);
  return all.filter((_, i) => i % every === 0).map(([x, y]) => [x, y]);
}

/** Why no mask came, in words. */
export function failureText(e: unknown): string {
  if (e instanceof Timeout) {
    return `No mask: the segmenter did not answer within ${PROPOSE_TIMEOUT_MS / 1000} s. Try again, or paint the mask with the brush.`;
  }
  if (e instanceof NetworkError) return "No mask: the server cannot be reached.";
  if (e instanceof ApiError) return `No mask (${e.status}): ${errorText(e)}`;
  return `No mask: ${errorText(e)}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Timeout()), ms);
    p.then((v) => (clearTimeout(timer), resolve(v)), (e: unknown) => (clearTimeout(timer), reject(e)));
  });
}

/** Sends prompts; `busy` while the newest one waits for its mask. */
export function useProposals(latest: RefObject<StageActions | null>, itemId: number | undefined):
  { busy: boolean; ask: (prompt: Proposing, ui: ShapeUi) => void } {
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  const ask = (prompt: Proposing, ui: ShapeUi) => {
    const a = latest.current!;
    if (!prompt.box && !prompt.inside.length) {
      return a.setUi({ ...ui, propose: prompt, notice: "Drag a box around the object first (or scribble inside it with i)." });
    }
    if (itemId === undefined) {
      return a.setUi({ ...ui, propose: { ...prompt, error: "Masks are proposed for an item of a project, not here." } });
    }
    const asked = ++seq.current;
    a.setUi({ ...ui, propose: { ...prompt, asked, error: undefined }, notice: "" });
    setBusy(true);
    const body = { box: prompt.box, foreground: thinned(prompt.inside), background: thinned(prompt.outside), field: a.q.target };
    const request = api<SegmentOut>("POST", `/api/projects/${routeProject()}/items/${itemId}/segment`, body);
    withTimeout(request, PROPOSE_TIMEOUT_MS)
      .then((out) => {
        const now = latest.current!;
        const p = now.ui.propose;
        if (!p || p.asked !== asked) return; // discarded, or a newer prompt is on its way
        const img = now.ctx().img;
        if (out.rle?.size?.[0] !== img.height || out.rle?.size?.[1] !== img.width) {
          return now.setUi({ ...now.ui, propose: { ...p, error: "No mask: the proposal does not have this image's size." } });
        }
        const at = p.target ? now.shapes.indexOf(p.target) : -1;
        const label = at >= 0 ? now.shapes[at]!.label : now.q.labels[Math.min(now.ui.label ?? 0, now.q.labels.length - 1)]!.value;
        const o: Shape = { label, rle: out.rle };
        const value = at >= 0 ? replaced(now.shapes, at, o) : [...now.shapes, o];
        const i = at >= 0 ? at : now.shapes.length;
        now.commit(value, {
          ...now.ui, selected: i, handle: null, propose: { ...p, target: o, error: undefined },
          notice: `Proposed mask: ${count(out.area)} px (object ${i + 1}). y keeps it, x discards it; i / o scribble to correct it.`,
        });
      })
      .catch((e: unknown) => {
        const now = latest.current!;
        const p = now.ui.propose;
        if (p && p.asked === asked) now.setUi({ ...now.ui, propose: { ...p, error: failureText(e) } });
      })
      .finally(() => {
        if (seq.current === asked) setBusy(false);
      });
  };
  return { busy, ask };
}

/** The mask family's keys while proposing (p starts and stops; y, x, b, i, o, Escape). */
export function proposeKey(shapes: Shape[], ui: ShapeUi, key: string): { value?: Shape[]; ui: ShapeUi } | null {
  const p = ui.propose;
  if (key === "p") {
    if (p) return leave(shapes, ui, true);
    return { ui: { ...ui, propose: EMPTY_PROMPT, selected: null, handle: null, notice: `Propose a mask: ${PROPOSE_KEYS}` } };
  }
  if (!p) return null;
  const tools: Record<string, Proposing["tool"]> = { b: "box", i: "inside", o: "outside" };
  const tool = tools[key];
  if (tool) {
    const what = { box: "drag a box around the object", inside: "scribble on the object", outside: "scribble off the object" }[tool];
    return { ui: { ...ui, propose: { ...p, tool }, notice: `Now ${what}.` } };
  }
  const at = p.target ? shapes.indexOf(p.target) : -1;
  if (key === "y") {
    if (at < 0) return { ui: { ...ui, notice: "No proposal to keep yet: drag a box around the object." } };
    return { ui: { ...ui, propose: undefined, selected: at, handle: null, erase: false,
      notice: `Kept as object ${at + 1}: paint to add to it, e then paint to erase.` } };
  }
  if (key === "x") {
    const value = at >= 0 ? shapes.filter((_, j) => j !== at) : undefined;
    return { value, ui: { ...ui, propose: EMPTY_PROMPT, selected: null, handle: null,
      notice: at >= 0 ? "Proposal discarded: drag a box around another object, or p to stop." : "Prompt cleared." } };
  }
  if (key === "Escape") return leave(shapes, ui, false);
  return null;
}

/** Out of propose mode (p: the proposal stays, selected; Escape: it goes). */
function leave(shapes: Shape[], ui: ShapeUi, keep: boolean): { value?: Shape[]; ui: ShapeUi } {
  const at = ui.propose?.target ? shapes.indexOf(ui.propose.target) : -1;
  if (at < 0) return { ui: { ...ui, propose: undefined, notice: "Stopped proposing." } };
  if (keep) {
    return { ui: { ...ui, propose: undefined, selected: at, handle: null, erase: false,
      notice: `Stopped proposing; the proposal is object ${at + 1}.` } };
  }
  return { value: shapes.filter((_, j) => j !== at),
    ui: { ...ui, propose: undefined, selected: null, handle: null, notice: "Stopped proposing; the proposal was discarded." } };
}
