/**
 * The drawing stage: the image with its objects, in the item in the image field's place.
 *
 * Rendering: SVG. The outer <svg> has the image's original size as its viewBox, so the browser
 * fits it into the page and pointer positions map to image pixels through the layer's screen
 * matrix; zoom and pan are that layer's transform. Objects sit in a layer that is drawn again
 * only when the objects, the selection or the hidden set change (`Objects`); what moves under
 * the pointer (the dragged object, a box or outline being drawn, handles, the brush) is a small
 * layer of its own, so a drag among 500 objects redraws one. Strokes keep their width on screen
 * at every zoom (`vector-effect`), so zooming redraws nothing but handles.
 *
 * Other values of the question (the model's suggestion, others' answers in review) are drawn
 * under the answer's objects (canvas/others.tsx); masks can be proposed by the project's
 * segmenter from a box and scribbles (canvas/propose.ts).
 *
 * Keys (canvas/keys.ts) are taken before the page's own while the question is active.
 */

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ShapeQuestion } from "../types";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import type { Ctx, Family } from "./family";
import { dist, snapPt, snapStep, type Pt } from "./geometry";
import { useImage } from "./image";
import { stageKey, type StageActions } from "./keys";
import { bboxOf, HandleMark, Objects, Prompt } from "./layers";
import {
  acceptAll, acceptSuggestion, OtherLayers, OthersLegend, openSuggestions, pickedSuggestion, suggestedShapes,
} from "./others";
import { PROPOSE_KEYS, useProposals } from "./propose";
import {
  brushRadius, colourOf, flagsOf, HIDDEN, LOCKED, noteValue, replaced, selectedIndex, shapesOf, withFlagsOf,
  type Shape, type ShapeUi,
} from "./shape";
import { FIT, pan, transform, zoomAt, type View } from "./viewport";

/** Screen pixels the pointer must travel before a press becomes a drag. */
const DRAG_PX = 3;

type Gesture = { sx: number; sy: number; moved: boolean } & (
  | { kind: "pan"; view: View }
  | { kind: "move"; i: number; start: Pt; orig: Shape; cur: Shape }
  | { kind: "handle"; i: number; id: string; orig: Shape; cur: Shape }
  // `sug`: pressed on a suggested object (a click accepts it); `prompt`: a mask prompt, not a shape.
  | { kind: "box"; a: Pt; b: Pt; sug?: number | null; prompt?: boolean }
  | { kind: "stroke"; points: Pt[]; hit: number | null; sug?: number | null; prompt?: "inside" | "outside" }
);

export interface StageProps extends ViewProps<ShapeQuestion> {
  family: Family;
}

export function Stage(props: StageProps) {
  const { family, q, value, set, active, activate, data, suggested, others } = props;
  const shapes = shapesOf(value);
  const ui: ShapeUi = props.ui.shape ?? {};
  const setUi = (u: ShapeUi) => props.setUi({ ...props.ui, shape: u });
  noteValue(q.name, value);

  const image = useImage(data[q.target]);
  const img = image.state === "ready" ? image.size : null;
  const [view, setView] = useState<View>(FIT);
  const [ppx, setPpx] = useState(1);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const [drawing, setDrawing] = useState<Pt[] | null>(null);
  const [hover, setHover] = useState<Pt | null>(null);
  const host = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const layer = useRef<SVGGElement>(null);
  const space = useRef(false);
  const keyRef = useRef<StageActions | null>(null);
  const proposals = useProposals(keyRef, props.itemId);

  // Screen pixels per image pixel: when the zoom changes and whenever the stage is resized (not
  // on every frame of a drag: reading the screen matrix forces a layout).
  const measure = () => {
    const m = layer.current?.getScreenCTM();
    if (m && m.a > 0) setPpx((old) => (Math.abs(old - m.a) > 1e-9 ? m.a : old));
  };
  useLayoutEffect(measure, [view, img?.width, img?.height]);
  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [img !== null]);

  // A new image (the next item) starts fitted, with nothing half drawn.
  useEffect(() => {
    setView(FIT);
    setDrawing(null);
    setGesture(null);
  }, [image.state === "ready" ? image.src : ""]);

  const ctx = (): Ctx => {
    const m = layer.current?.getScreenCTM();
    const k = m && m.a > 0 ? m.a : ppx;
    return { q, img: img!, ppx: k, step: snapStep(k) };
  };
  const point = (e: { clientX: number; clientY: number }, of: SVGGraphicsElement | null = layer.current): Pt => {
    const m = of?.getScreenCTM()?.inverse();
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m);
    return [p.x, p.y];
  };
  const snapped = (e: { clientX: number; clientY: number }): Pt => {
    const c = ctx();
    return snapPt(point(e), c.step, c.img);
  };

  const selected = selectedIndex(ui, shapes);
  const sug = suggestedShapes(others);
  const open = openSuggestions(sug, shapes, ui);
  const pick = pickedSuggestion(open, ui);
  const proposing = family.propose ? ui.propose : undefined;
  const labelValue = () => q.labels[Math.min(ui.label ?? 0, q.labels.length - 1)]!.value;
  const full = () => shapes.length >= (q.max_objects ?? 1000);
  const commit = (next: Shape[], u: ShapeUi) => {
    set(next);
    setUi(u);
  };
  const add = (o: Shape, extra: Partial<ShapeUi> = {}) => {
    if (full()) return setUi({ ...ui, notice: `At most ${q.max_objects ?? 1000} objects.` });
    commit([...shapes, o], { ...ui, selected: shapes.length, handle: null, notice: "", ...extra });
  };

  const acceptSug = (k: number) => {
    if (full()) return setUi({ ...ui, notice: `At most ${q.max_objects ?? 1000} objects.` });
    const r = acceptSuggestion(shapes, ui, sug, open, k);
    commit(r.value, r.ui);
  };

  const finishDrawing = (pts: Pt[] | null = drawing) => {
    if (!pts) return;
    const o = family.fromPoints?.(pts, labelValue(), ctx());
    if (typeof o === "string") return setUi({ ...ui, notice: `Not finished: ${o}.` });
    setDrawing(null);
    if (o) add(o);
  };

  const onPointerDown = (e: PointerEvent) => {
    if (!img) return;
    activate();
    host.current?.focus({ preventScroll: true });
    const base = { sx: e.clientX, sy: e.clientY, moved: false };
    const capture = () => host.current?.setPointerCapture(e.pointerId);
    if (e.button === 1 || (e.button === 0 && space.current)) {
      e.preventDefault();
      capture();
      return setGesture({ ...base, kind: "pan", view });
    }
    if (e.button !== 0) return;
    const p = snapped(e);
    const target = e.target as Element;
    const handle = target.closest<SVGElement>("[data-handle]")?.dataset.handle;
    const objEl = target.closest<SVGElement>("[data-obj]");
    const hit = objEl ? Number(objEl.dataset.obj) : null;
    const sugEl = hit === null ? target.closest<SVGElement>("[data-sug]") : null;
    const sugHit = sugEl ? Number(sugEl.dataset.sug) : null;
    if (proposing) {
      capture();
      if (proposing.tool === "box") return setGesture({ ...base, kind: "box", a: p, b: p, prompt: true });
      return setGesture({ ...base, kind: "stroke", points: [p], hit: null, prompt: proposing.tool });
    }
    if (drawing) {
      // Clicks add points; one on the last point again (the second click of a double click) adds
      // none, and one on the first point closes a polygon.
      const near = (a: Pt | undefined, px: number) => !!a && dist(a, p) * ctx().ppx <= px;
      if (family.closed && drawing.length >= (family.minPoints ?? 3) && near(drawing[0], 2 * DRAG_PX)) {
        return finishDrawing();
      }
      if (!near(drawing[drawing.length - 1], DRAG_PX)) setDrawing([...drawing, p]);
      return;
    }
    if (handle && selected !== null && !(flagsOf(ui, shapes[selected]) & LOCKED)) {
      capture();
      const o = shapes[selected]!;
      if (handle.startsWith("v") || handle.startsWith("p")) setUi({ ...ui, handle, notice: "" });
      return setGesture({ ...base, kind: "handle", i: selected, id: handle, orig: o, cur: o });
    }
    // A click on a suggested object accepts it; drawing families that drag still draw from there.
    // (Keypoints: not while an object's points are being placed, where a click places the next one.)
    if (sugHit !== null && (family.draw === "clicks" || (family.draw === "points" && selected === null))) {
      return acceptSug(sugHit);
    }
    if (family.draw === "brush") {
      capture();
      return setGesture({ ...base, kind: "stroke", points: [p], hit, sug: sugHit });
    }
    const placed = family.click?.(shapes, ui, p, ctx(), hit);
    if (placed) {
      if (placed.value && placed.value.length > shapes.length && full()) {
        return setUi({ ...ui, notice: `At most ${q.max_objects ?? 1000} objects.` });
      }
      return placed.value ? commit(placed.value, placed.ui) : setUi(placed.ui);
    }
    if (hit !== null) {
      const o = shapes[hit]!;
      if (hit !== selected) setUi({ ...ui, selected: hit, handle: null, notice: "" });
      if (!(flagsOf(ui, o) & LOCKED)) {
        capture();
        setGesture({ ...base, kind: "move", i: hit, start: point(e), orig: o, cur: o });
      }
      return;
    }
    if (family.draw === "drag") {
      capture();
      return setGesture({ ...base, kind: "box", a: p, b: p, sug: sugHit });
    }
    if (selected !== null) return setUi({ ...ui, selected: null, handle: null, notice: "" });
    if (family.draw === "clicks") {
      setDrawing([p]);
      if (ui.notice) setUi({ ...ui, notice: "" });
    }
  };

  const onPointerMove = (e: PointerEvent) => {
    if (!img) return;
    const g = gesture;
    if (!g) {
      if (drawing || family.draw === "brush") setHover(snapped(e));
      return;
    }
    const moved = g.moved || Math.hypot(e.clientX - g.sx, e.clientY - g.sy) > DRAG_PX;
    const c = ctx();
    if (g.kind === "pan") {
      const unit = svg.current?.getScreenCTM()?.a ?? 1;
      setView(pan(g.view, (e.clientX - g.sx) / unit, (e.clientY - g.sy) / unit));
      return setGesture({ ...g, moved });
    }
    if (!moved) return;
    if (g.kind === "move") {
      // Moves go by whole grid steps, so an object drawn on the grid stays on it.
      const p = point(e);
      const d = (v: number) => Math.round(v / c.step) * c.step;
      const cur = family.translate(g.orig, d(p[0] - g.start[0]), d(p[1] - g.start[1]), c);
      return setGesture({ ...g, moved, cur });
    }
    if (g.kind === "handle") {
      return setGesture({ ...g, moved, cur: family.dragHandle!(g.orig, g.id, snapped(e), c, e.shiftKey) });
    }
    if (g.kind === "box") return setGesture({ ...g, moved, b: snapped(e) });
    setHover(snapped(e));
    return setGesture({ ...g, moved, points: [...g.points, snapped(e)] });
  };

  const onPointerUp = (e: PointerEvent) => {
    const g = gesture;
    if (!g) return;
    host.current?.releasePointerCapture?.(e.pointerId);
    setGesture(null);
    if (!img) return;
    const c = ctx();
    if (g.kind === "move" || g.kind === "handle") {
      if (g.moved && g.cur !== g.orig) {
        commit(replaced(shapes, g.i, g.cur), withFlagsOf({ ...ui, selected: g.i }, g.orig, g.cur));
      }
    } else if (g.kind === "box" && g.prompt) {
      if (!g.moved || !proposing) return setUi({ ...ui, notice: "Drag a box around the object." });
      const o = bboxOf(g.a, g.b, c.step);
      if (!o) return setUi({ ...ui, notice: "Too small to be a box." });
      proposals.ask({ ...proposing, box: o.box! }, ui);
    } else if (g.kind === "stroke" && g.prompt) {
      if (!proposing) return;
      const side = g.prompt;
      proposals.ask({ ...proposing, [side]: [...proposing[side], g.points] }, ui);
    } else if (g.kind === "box") {
      if (!g.moved && g.sug !== undefined && g.sug !== null) return acceptSug(g.sug);
      if (!g.moved) return setUi({ ...ui, selected: null, handle: null, notice: "" });
      const o = family.fromDrag!(g.a, g.b, labelValue(), c);
      if (o) add(o);
      else setUi({ ...ui, notice: "Too small to be a box." });
    } else if (g.kind === "stroke") {
      if (!g.moved && g.hit === null && g.sug !== undefined && g.sug !== null) return acceptSug(g.sug);
      if (!g.moved && g.hit !== null && g.hit !== selected) {
        return setUi({ ...ui, selected: g.hit, handle: null, notice: "" });
      }
      const o = selected !== null ? shapes[selected]! : null;
      if (o && flagsOf(ui, o) & LOCKED) return setUi({ ...ui, notice: "This mask is locked (l unlocks it)." });
      if (!o && ui.erase) return setUi({ ...ui, notice: "Nothing to erase: select a mask first (Tab, or click it)." });
      const brush = brushRadius(ui, c.img);
      const next = family.stroke!(o, g.points, brush, !!ui.erase, labelValue(), c);
      if (o && selected !== null) {
        if (next) commit(replaced(shapes, selected, next), withFlagsOf(ui, o, next));
        else commit(shapes.filter((_, j) => j !== selected), { ...ui, selected: null, notice: "The mask was erased completely." });
      } else if (next) add(next);
    }
  };

  const onWheel = (e: WheelEvent) => {
    if (!img) return;
    e.preventDefault();
    setView((v) => zoomAt(v, 2 ** (-e.deltaY / 200), point(e, svg.current)));
  };

  const actions: StageActions = {
    family, q, shapes, ui, setUi, set, commit, ctx, view, setView, drawing, setDrawing, finishDrawing,
    gesture: gesture !== null, cancelGesture: () => setGesture(null), space, sug, open, acceptSug,
  };
  keyRef.current = actions;
  useEffect(() => {
    if (!active || !img) return;
    const down = (e: KeyboardEvent) => {
      if (stageKey(keyRef.current!, e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    const up = (e: KeyboardEvent) => {
      if (e.key === " ") space.current = false;
    };
    addEventListener("keydown", down, true);
    addEventListener("keyup", up, true);
    return () => {
      removeEventListener("keydown", down, true);
      removeEventListener("keyup", up, true);
      space.current = false;
    };
  }, [active, img !== null]);

  if (image.state !== "ready") {
    return (
      <div class="canvas-stage" data-question={q.name}>
        <p class={image.state === "error" ? "media-ref notice" : "media-ref muted"} role="status">
          {image.state === "error" ? image.message : "Loading the image…"}
        </p>
      </div>
    );
  }

  const live = gesture && (gesture.kind === "move" || gesture.kind === "handle") && gesture.moved ? gesture : null;
  const liveShape = live ? live.cur : null;
  const sel = selected !== null && !(flagsOf(ui, shapes[selected]) & HIDDEN) ? selected : null;
  const selShape = liveShape ?? (sel !== null ? shapes[sel]! : null);
  const editable = sel !== null && !(flagsOf(ui, shapes[sel]) & LOCKED);
  const c: Ctx = { q, img: image.size, ppx, step: snapStep(ppx) };
  const handles = editable && selShape && family.handles ? family.handles(selShape, c) : [];
  const rot = handles.find((h) => h.kind === "rotate");
  const brush = brushRadius(ui, image.size);
  const { width: W, height: H } = image.size;
  const setOff = (id: string, hidden: boolean) => {
    const off = new Set(ui.off);
    if (hidden) off.add(id);
    else off.delete(id);
    setUi({ ...ui, off });
  };
  const proposal = proposing && <Prompt p={proposing} ppx={ppx} />;

  return (
    <div class={`canvas-stage${suggested ? " suggested" : ""}`} data-question={q.name}>
      <div
        ref={host}
        class={`canvas-view draw-${proposing ? "propose" : family.draw}${gesture?.kind === "pan" ? " panning" : ""}`}
        tabIndex={0}
        role="application"
        aria-label={`image to draw on for ${title(q)}: ${shapes.length} objects`}
        aria-roledescription="drawing canvas"
        aria-busy={proposals.busy}
        onFocus={activate}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setGesture(null)}
        onDblClick={() => drawing && finishDrawing()}
        onWheel={onWheel}
        onContextMenu={(e) => e.preventDefault()}
        // The middle button pans here; the browser would start scrolling by itself.
        onMouseDown={(e) => e.button === 1 && e.preventDefault()}
      >
        <svg ref={svg} class="canvas-svg" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="xMidYMid meet">
          <g ref={layer} class="view" transform={transform(view)}>
            <image href={image.src} x={0} y={0} width={W} height={H} preserveAspectRatio="none" />
            <OtherLayers family={family} q={q} others={others} open={open} pick={pick} off={ui.off} />
            <Objects family={family} q={q} shapes={shapes} selected={sel} skip={live ? live.i : null} flags={ui.flags} />
            <g class="live">
              {liveShape && live && (
                <g class={`obj sel ${colourOf(q, liveShape.label)}`} data-obj={live.i}>{family.render(liveShape, q)}</g>
              )}
              {proposal}
              {gesture?.kind === "box" && gesture.moved && (
                <rect class={`drawing ${gesture.prompt ? "prompt" : colourOf(q, labelValue())}`} x={Math.min(gesture.a[0], gesture.b[0])}
                  y={Math.min(gesture.a[1], gesture.b[1])} width={Math.abs(gesture.b[0] - gesture.a[0])}
                  height={Math.abs(gesture.b[1] - gesture.a[1])} />
              )}
              {drawing && (
                <g class={`drawing ${colourOf(q, labelValue())}`}>
                  <polyline points={[...drawing, ...(hover ? [hover] : [])].map((p) => p.join(",")).join(" ")} />
                  {drawing.map((p) => <circle class="handle vertex" cx={p[0]} cy={p[1]} r={4 / ppx} />)}
                </g>
              )}
              {gesture?.kind === "stroke" && gesture.prompt && (
                <polyline class={`scribble ${gesture.prompt}`} points={gesture.points.map((p) => p.join(",")).join(" ")} />
              )}
              {gesture?.kind === "stroke" && !gesture.prompt && (
                <polyline class={`stroke ${ui.erase ? "erase" : colourOf(q, labelValue())}`}
                  points={gesture.points.map((p) => p.join(",")).join(" ")} stroke-width={2 * brush} />
              )}
              {family.draw === "brush" && !proposing && hover && (
                <circle class={`brush${ui.erase ? " erase" : ""}`} cx={hover[0]} cy={hover[1]} r={brush} />
              )}
              {rot && selShape && (
                <line class="rotate-arm" x1={(handles[1]!.at[0])} y1={handles[1]!.at[1]} x2={rot.at[0]} y2={rot.at[1]} />
              )}
              {handles.map((h) => <HandleMark h={h} ppx={ppx} on={ui.handle === h.id} />)}
            </g>
          </g>
        </svg>
      </div>
      <OthersLegend q={q} others={others} open={open} off={ui.off} setOff={setOff}
        startFrom={(layer) => commit(structuredClone(shapesOf(layer.value)),
          { ...ui, selected: null, handle: null, notice: `Started from the objects of ${layer.who}.` })}
        acceptRest={() => {
          if (shapes.length + open.length > (q.max_objects ?? 1000)) return setUi({ ...ui, notice: `At most ${q.max_objects ?? 1000} objects.` });
          const r = acceptAll(shapes, ui, sug, open);
          commit(r.value, r.ui);
        }} />
      <p class="canvas-status" role="status" aria-live="polite">
        {proposals.busy && <span class="spinner" aria-hidden="true" />}
        {[
          proposals.busy ? "Asking the segmenter for a mask…" : "",
          ui.notice,
          proposing && !proposals.busy && !ui.notice && `Proposing a mask: ${PROPOSE_KEYS}`,
          drawing && `${drawing.length} point${drawing.length === 1 ? "" : "s"}: click the next; Enter or a double ` +
            "click finishes, Backspace takes one back, Escape gives up.",
        ].filter(Boolean).join(" ")}
      </p>
      {proposing?.error && <p class="error propose-error" role="alert">{proposing.error}</p>}
    </div>
  );
}
