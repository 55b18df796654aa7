/**
 * The stage's keys, taken before the page's own while a shape question is active (a capturing
 * listener), and only when they mean something here; every other key goes on to the page.
 * So Enter submits and Backspace undoes, except while an outline is being drawn (then they
 * finish it and take its last point back); ↓/↑ go to the next question unless an object is
 * selected (then the arrows move it: 1 image pixel, with Shift 10; Escape lets go of it).
 *
 *   + = / -      zoom in / out (about the middle)     0, f   fit the image
 *   Tab          next object (Shift: previous)        Escape let go of the point, object, drawing
 *   arrows       move the selected object or point    Delete remove the point or object
 *   h / l        hide / lock the selected object      Ctrl+Shift+Z, Ctrl+Y  redo
 *   space+drag   pan (or drag with the middle button)
 *   n / y / x    the model's suggested objects: pick the next, accept it, dismiss it
 * A class's own key (or a digit) is never taken here: it picks the class (kind.tsx).
 */

import type { RefObject } from "preact";
import type { ShapeQuestion } from "../types";
import type { Ctx, Family } from "./family";
import { bounds, type Pt } from "./geometry";
import { dismissSuggestion, pickedSuggestion } from "./others";
import {
  flagsOf, HIDDEN, labelForKey, LOCKED, redoValue, replaced, selectedIndex, withFlag, withFlagsOf,
  type Shape, type ShapeUi,
} from "./shape";
import { FIT, reveal, zoomAt, ZOOM_STEP, type View } from "./viewport";

export interface StageActions {
  family: Family;
  q: ShapeQuestion;
  shapes: Shape[];
  ui: ShapeUi;
  setUi: (u: ShapeUi) => void;
  set: (v: unknown) => void;
  commit: (next: Shape[], u: ShapeUi) => void;
  ctx: () => Ctx;
  view: View;
  setView: (v: View) => void;
  drawing: Pt[] | null;
  setDrawing: (p: Pt[] | null) => void;
  finishDrawing: () => void;
  gesture: boolean;
  cancelGesture: () => void;
  space: RefObject<boolean>;
  /** The model's suggested objects, the indices still open, and accepting one. */
  sug: Shape[];
  open: number[];
  acceptSug: (k: number) => void;
}

const ARROWS: Record<string, Pt> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function keyName(e: KeyboardEvent): string {
  const mods = `${e.ctrlKey ? "Ctrl+" : ""}${e.shiftKey && (e.key.length > 1 || e.ctrlKey) ? "Shift+" : ""}`;
  return mods + (e.ctrlKey && e.key.length === 1 ? e.key.toLowerCase() : e.key);
}

/** A control that needs the keys itself: typing in a field, choosing in a list. */
function ownsKeys(el: Element | null): boolean {
  if (!el) return false;
  const typing = el.tagName === "INPUT" && !["button", "checkbox", "radio"].includes((el as HTMLInputElement).type);
  return typing || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el instanceof HTMLElement && el.isContentEditable);
}

/**
 * Focus on the page itself or on the stage (not on a button or link of the form): Tab then
 * goes through the objects instead of through the page's controls.
 */
function onStage(el: Element | null): boolean {
  return !el || el === document.body || !!el.closest(".canvas-stage");
}

/** True when the key was used (the caller stops it from reaching the page). */
export function stageKey(a: StageActions, e: KeyboardEvent): boolean {
  const focused = document.activeElement;
  if (e.altKey || e.metaKey || ownsKeys(focused)) return false;
  // A dialog (the shortcuts) has the keys while it is open.
  if (document.querySelector("[aria-modal='true']")) return false;
  const key = keyName(e);
  const { shapes, ui, setUi } = a;

  if (a.drawing) {
    if (key === "Enter") return a.finishDrawing(), true;
    if (key === "Backspace") return a.setDrawing(a.drawing.length > 1 ? a.drawing.slice(0, -1) : null), true;
    if (key === "Escape") return a.setDrawing(null), setUi({ ...ui, notice: "Drawing given up." }), true;
  }
  if (a.gesture && key === "Escape") return a.cancelGesture(), true;
  if (key === "Ctrl+Shift+z" || key === "Ctrl+y") {
    const v = redoValue(a.q.name);
    if (v === undefined) setUi({ ...ui, notice: "Nothing to redo." });
    else a.set(v);
    return true;
  }
  if (e.ctrlKey) return false;
  if (key === " " && onStage(focused)) {
    a.space.current = true;
    return true;
  }
  if (labelForKey(a.q.labels, e.key, true) !== null) return false;

  const ctx = a.ctx();
  const centre: Pt = [ctx.img.width / 2, ctx.img.height / 2];
  if (key === "+" || key === "=") return a.setView(zoomAt(a.view, ZOOM_STEP, centre)), true;
  if (key === "-") return a.setView(zoomAt(a.view, 1 / ZOOM_STEP, centre)), true;
  if (key === "0" || key === "f") return a.setView(FIT), true;

  const own = a.family.key?.(shapes, ui, key, ctx);
  if (own) {
    if (own.value) a.commit(own.value, own.ui);
    else setUi(own.ui);
    return true;
  }

  if (a.open.length && (key === "n" || key === "y" || key === "x")) return suggestionKey(a, key, ctx);

  const i = selectedIndex(ui, shapes);
  if ((key === "Tab" || key === "Shift+Tab") && onStage(focused)) return cycle(a, key === "Tab" ? 1 : -1, ctx);
  if (i === null) return false;
  const o = shapes[i]!;
  const locked = (flagsOf(ui, o) & LOCKED) !== 0;
  if (key === "Escape") {
    setUi(ui.handle ? { ...ui, handle: null, notice: "" } : { ...ui, selected: null, handle: null, notice: "" });
    return true;
  }
  if (key === "h" || key === "l") {
    const flag = key === "h" ? HIDDEN : LOCKED;
    const on = !(flagsOf(ui, o) & flag);
    const what = key === "h" ? (on ? "hidden (h shows it)" : "shown") : on ? "locked (l unlocks it)" : "unlocked";
    setUi({ ...withFlag(ui, o, flag, on), notice: `Object ${i + 1} ${what}.` });
    return true;
  }
  const arrow = ARROWS[e.key];
  if (arrow) {
    if (locked) return setUi({ ...ui, notice: `Object ${i + 1} is locked (l unlocks it).` }), true;
    const by = e.shiftKey ? 10 : 1;
    const [dx, dy] = [arrow[0] * by, arrow[1] * by];
    const h = ui.handle && a.family.handles?.(o, ctx).find((x) => x.id === ui.handle);
    const moved = h && a.family.dragHandle
      ? a.family.dragHandle(o, h.id, clampPt([h.at[0] + dx, h.at[1] + dy], ctx), ctx, false)
      : a.family.translate(o, dx, dy, ctx);
    if (moved !== o) a.commit(replaced(shapes, i, moved), withFlagsOf(ui, o, moved));
    return true;
  }
  if (key === "Delete") {
    if (locked) return setUi({ ...ui, notice: `Object ${i + 1} is locked (l unlocks it).` }), true;
    if (ui.handle && a.family.removeHandle) {
      const r = a.family.removeHandle(o, ui.handle, ctx);
      if (typeof r === "string") setUi({ ...ui, handle: null, notice: `${r[0]!.toUpperCase()}${r.slice(1)}.` });
      else a.commit(replaced(shapes, i, r), { ...withFlagsOf(ui, o, r), handle: null, notice: "" });
      return true;
    }
    a.commit(shapes.filter((_, j) => j !== i), { ...ui, selected: null, handle: null, notice: `Object ${i + 1} removed.` });
    return true;
  }
  return false;
}

/** n picks the next suggested object (into view), y accepts the picked one, x dismisses it. */
function suggestionKey(a: StageActions, key: string, ctx: Ctx): boolean {
  const k = pickedSuggestion(a.open, a.ui);
  if (k === null) return false;
  if (key === "y") return a.acceptSug(k), true;
  if (key === "x") return a.setUi(dismissSuggestion(a.ui, a.sug, a.open, k)), true;
  const next = a.ui.pick === undefined || a.ui.pick === null ? k : a.open.find((j) => j > k) ?? a.open[0]!;
  a.setUi({ ...a.ui, pick: next, notice: `Suggested object ${next + 1}: ${a.family.describe(a.sug[next]!, a.q)} (y accepts, x dismisses).` });
  const pts = a.family.outline(a.sug[next]!);
  if (pts.length) a.setView(reveal(a.view, bounds(pts), ctx.img));
  return true;
}

function clampPt(p: Pt, ctx: Ctx): Pt {
  return [Math.min(ctx.img.width, Math.max(0, p[0])), Math.min(ctx.img.height, Math.max(0, p[1]))];
}

/** Tab: the next shown object after the selected one (round), brought into view. */
function cycle(a: StageActions, step: 1 | -1, ctx: Ctx): boolean {
  const { shapes, ui } = a;
  const n = shapes.length;
  const from = selectedIndex(ui, shapes) ?? (step > 0 ? -1 : n);
  for (let k = 1; k <= n; k++) {
    const j = (((from + step * k) % n) + n) % n;
    if (flagsOf(ui, shapes[j]) & HIDDEN) continue;
    a.setUi({ ...ui, selected: j, handle: null, notice: "" });
    const pts = a.family.outline(shapes[j]!);
    if (pts.length) a.setView(reveal(a.view, bounds(pts), ctx.img));
    return true;
  }
  return false;
}
