/**
 * The waveform's keys, taken before the page's own while an `audio_segments` question is active
 * (a capturing listener), and only when they mean something here: Enter still submits,
 * Shift+Enter skips, Backspace undoes, ↓ ↑ change question, A applies the whole suggestion, and
 * a label's own key (or a digit) picks the label (questions/audio_segments.tsx). Nothing here
 * fires while the focus is in a text field (a transcript, an attribute), except Ctrl+Space.
 *
 *   Space, Ctrl+Space   play / pause (Ctrl+Space also while typing a transcript)
 *   ← / →               back / forward 2 s
 *   s / d               slower / faster (0.5x to 2x)
 *   r                   loop the selected segment (or the one under the playhead) on / off
 *   [ / ]               mark a start / an end at the playhead: ] after [ makes a segment; with a
 *                       segment selected they move its start / end to the playhead
 *   , / .               the selected segment's start 50 ms earlier / later; < / > its end
 *   + = / - / 0         zoom in / out / fit the whole file (or the wheel, about the pointer)
 *   Tab, Shift+Tab      select the next / previous segment (while the waveform has the focus)
 *   Delete              remove the selected segment          Escape  let go of it, drop the mark
 *   t                   type the selected segment's transcript (Escape leaves the box)
 *   n / y / x           the model's suggested segments: pick the next, accept it, dismiss it
 */

import type { AudioSegmentsQuestion } from "../types";
import { labelForKey } from "../canvas/shape";
import {
  acceptSuggestion, dismissSuggestion, edited, ms, newSegment, place, pickedSuggestion, removed, selectedIndex, span,
  type AudioUi, type Placed, type Segment,
} from "./segments";

export const BACK_S = 2;
export const NUDGE_S = 0.05;
export const RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

export interface Player {
  time: () => number;
  seek: (t: number) => void;
  toggle: () => void;
  rate: () => number;
  setRate: (r: number) => void;
  duration: number;
}

export interface WaveActions {
  q: AudioSegmentsQuestion;
  segs: Segment[];
  ui: AudioUi;
  setUi: (u: AudioUi) => void;
  commit: (r: Placed | string) => void;
  player: Player;
  zoom: (factor: number | "fit") => void;
  reveal: (t: number) => void;
  labelValue: () => string;
  sug: Segment[];
  open: number[];
  onStage: boolean;
}

/** A control that needs the keys itself: typing in a field, choosing in a list. */
export function ownsKeys(el: Element | null): boolean {
  if (!el) return false;
  const typing = el.tagName === "INPUT" && !["button", "checkbox", "radio", "range"].includes((el as HTMLInputElement).type);
  return typing || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el instanceof HTMLElement && el.isContentEditable);
}

/** The segment the loop and [ ] act on: the selected one. */
function current(a: WaveActions): number | null {
  return selectedIndex(a.ui, a.segs);
}

function under(a: WaveActions, t: number): number | null {
  const i = a.segs.findIndex((s) => s.start <= t && t < s.end);
  return i < 0 ? null : i;
}

/** True when the key was used (the caller stops it from reaching the page). */
export function waveKey(a: WaveActions, e: KeyboardEvent): boolean {
  if (e.altKey || e.metaKey) return false;
  if (document.querySelector("[aria-modal='true']")) return false;
  if (e.ctrlKey) {
    if (e.key !== " ") return false;
    a.player.toggle();
    return true;
  }
  if (ownsKeys(document.activeElement)) return false;
  if (labelForKey(a.q.labels, e.key, true) !== null) return false;
  const { ui, setUi, segs, player } = a;
  const key = e.key;
  const sel = current(a);
  const t = player.time();
  switch (key) {
    case " ":
      player.toggle();
      return true;
    case "ArrowLeft":
    case "ArrowRight":
      return skip(a, key === "ArrowLeft" ? -BACK_S : BACK_S), true;
    case "s":
    case "d": {
      const now = RATES.findIndex((r) => r >= player.rate() - 1e-9);
      const i = Math.min(RATES.length - 1, Math.max(0, (now < 0 ? 2 : now) + (key === "s" ? -1 : 1)));
      player.setRate(RATES[i]!);
      setUi({ ...ui, notice: `Playback speed ${RATES[i]}x.` });
      return true;
    }
    case "r":
      return toggleLoop(a), true;
    case "[":
    case "]":
      return markKey(a, key, sel, ms(t));
    case ",":
    case ".":
    case "<":
    case ">": {
      if (sel === null) return false;
      const o = segs[sel]!;
      const by = key === "," || key === "<" ? -NUDGE_S : NUDGE_S;
      const change = key === "," || key === "." ? { start: ms(Math.max(0, o.start + by)) } : { end: ms(Math.min(player.duration, o.end + by)) };
      a.commit(place(a.q, segs, ui, edited(o, change), sel));
      return true;
    }
    case "+":
    case "=":
      return a.zoom(2), true;
    case "-":
      return a.zoom(0.5), true;
    case "0":
      return a.zoom("fit"), true;
    case "Tab":
      return a.onStage && cycle(a, e.shiftKey ? -1 : 1);
    case "Delete":
      if (sel === null) return false;
      a.commit(removed(segs, ui, sel));
      return true;
    case "Escape":
      if (sel === null && (ui.mark === null || ui.mark === undefined)) return false;
      setUi({ ...ui, selected: null, mark: null, loop: false, notice: "" });
      return true;
    case "t":
      if (!a.q.transcript || sel === null) return false;
      setUi({ ...ui, typeText: (ui.typeText ?? 0) + 1 });
      return true;
    case "n":
    case "y":
    case "x":
      return suggestionKey(a, key);
    default:
      return false;
  }
}

/** Move the playhead by `by` seconds (within the file), keeping it in view. */
export function skip(a: WaveActions, by: number): void {
  const to = Math.min(a.player.duration, Math.max(0, a.player.time() + by));
  a.player.seek(to);
  a.reveal(to);
}

/** Loop the selected segment (or the one under the playhead) from its start, or stop looping. */
export function toggleLoop(a: WaveActions): void {
  const { ui, segs, setUi } = a;
  if (ui.loop) return setUi({ ...ui, loop: false, notice: "Loop off." });
  const i = current(a) ?? under(a, a.player.time());
  if (i === null) return setUi({ ...ui, notice: "Select a segment to loop (click it, or Tab)." });
  setUi({ ...ui, selected: i, loop: true, notice: `Looping segment ${i + 1} (${span(segs[i]!)}); r stops.` });
  a.player.seek(segs[i]!.start);
}

function markKey(a: WaveActions, key: "[" | "]", sel: number | null, t: number): boolean {
  const { ui, segs } = a;
  if (sel !== null) {
    const o = segs[sel]!;
    const change = key === "[" ? { start: t } : { end: t };
    a.commit(place(a.q, segs, ui, edited(o, change), sel, `Segment ${sel + 1}: ${key === "[" ? "start" : "end"} at ${t.toFixed(3)} s.`));
    return true;
  }
  if (key === "[") {
    a.setUi({ ...ui, mark: t, notice: `Start marked at ${t.toFixed(3)} s: ] at the end makes the segment.` });
    return true;
  }
  if (ui.mark === null || ui.mark === undefined) {
    a.setUi({ ...ui, notice: "Mark the start first ([ at the playhead)." });
    return true;
  }
  const [s, e] = ui.mark <= t ? [ui.mark, t] : [t, ui.mark];
  const r = place(a.q, segs, { ...ui, mark: null }, newSegment(a.q, s, e, a.labelValue()), null);
  if (typeof r !== "string") r.ui = { ...r.ui, notice: `Segment ${r.ui.selected! + 1} added (${span(r.value[r.ui.selected!]!)}).` };
  a.commit(r);
  return true;
}

function cycle(a: WaveActions, step: 1 | -1): boolean {
  const n = a.segs.length;
  if (!n) return false;
  const from = current(a) ?? (step > 0 ? -1 : n);
  const j = (((from + step) % n) + n) % n;
  a.setUi({ ...a.ui, selected: j, loop: false, notice: "" });
  a.reveal(a.segs[j]!.start);
  return true;
}

function suggestionKey(a: WaveActions, key: string): boolean {
  if (!a.open.length) return false;
  const k = pickedSuggestion(a.open, a.ui);
  if (k === null) return false;
  if (key === "y") return a.commit(acceptSuggestion(a.q, a.segs, a.ui, a.sug, k)), true;
  if (key === "x") return a.setUi(dismissSuggestion(a.ui, a.sug, k)), true;
  const next = a.ui.pick === undefined || a.ui.pick === null ? k : a.open.find((j) => j > k) ?? a.open[0]!;
  const s = a.sug[next]!;
  a.setUi({ ...a.ui, pick: next, notice: `Suggested segment ${next + 1}: ${span(s)} (y accepts, x dismisses).` });
  a.reveal(s.start);
  return true;
}
