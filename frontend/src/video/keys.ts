/**
 * The video workbench's keys, taken before the page's own while a video question is active (a
 * capturing listener), and only when they mean something here: Enter still submits, Backspace
 * undoes, ↓ ↑ change question, and a class's own key (or a digit) picks the class.
 *
 *   , / .          one frame back / forward (Shift: 10)      Home / End   first / last frame
 *   Space          play / pause                               s / d        slower / faster
 *   Tab            next track (Shift: previous)               Escape       stop the tracker, drop
 *   o              outside from this frame (again: back)                   its proposals, let go
 *   i              occluded from this frame (again: not)      arrows       move the box (Shift: 10 px)
 *   Delete         delete the keyframe here (Shift: the track)  /          split the track here
 *   f              per-frame shapes on / off (a drawn box is on this frame only)
 *   t              track: propose the next frames             y / Y        accept the proposals
 *   + = / - / 0    zoom in / out / fit                                     (Y: up to this frame)
 *   Ctrl+Shift+Z, Ctrl+Y   redo
 * Events (`video_segments`): [ marks a start here, ] the end (an event from the mark to here).
 */

import type { FrameClock } from "./player";
import { RATES } from "./player";

/** A control that needs the keys itself: typing in a field, choosing in a list. */
export function ownsKeys(el: Element | null): boolean {
  if (!el) return false;
  const typing = el.tagName === "INPUT" && !["button", "checkbox", "radio", "range"].includes((el as HTMLInputElement).type);
  return typing || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el instanceof HTMLElement && el.isContentEditable);
}

/** Whether the page should leave this key alone (a dialog is open, a field is typed in). */
export function notOurs(e: KeyboardEvent): boolean {
  return e.altKey || e.metaKey || ownsKeys(document.activeElement) || !!document.querySelector("[aria-modal='true']");
}

/** The player's keys: frame stepping, play/pause, speed. True when used. */
export function playerKey(clock: FrameClock, e: KeyboardEvent): boolean {
  if (e.ctrlKey) return false;
  // Shift+, types "<" on most layouts: the key's place (code) says which it was.
  const back = e.key === "," || e.key === "<" || e.code === "Comma";
  const fwd = e.key === "." || e.key === ">" || e.code === "Period";
  if (back || fwd) {
    clock.step((fwd ? 1 : -1) * (e.shiftKey ? 10 : 1));
    return true;
  }
  if (e.key === "Home") return clock.seek(0), true;
  if (e.key === "End") return clock.seek(clock.state.frameCount - 1), true;
  if (e.key === " ") return clock.toggle(), true;
  if (e.key === "s" || e.key === "d") {
    const i = RATES.indexOf(clock.state.rate);
    const j = Math.max(0, Math.min(RATES.length - 1, (i < 0 ? RATES.indexOf(1) : i) + (e.key === "d" ? 1 : -1)));
    clock.setRate(RATES[j]!);
    return true;
  }
  return false;
}
