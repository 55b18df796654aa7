/**
 * The video workbench of a `video_tracks` question, in the item in the video field's place: the
 * player (the proxy when the server made one, else the original), the image canvas's drawing on
 * the frame on screen, the controls and the timeline.
 *
 * The video and an SVG with the original's displayed size as its viewBox sit in one box of the
 * video's aspect ratio, so SVG units are the original's pixels whatever file plays; zoom and pan
 * are that box's CSS transform (canvas/viewport.ts's view, in the host's CSS pixels). Boxes reuse
 * the image canvas's box family (canvas/questions boxes.tsx: handles, moves, snapping). On the
 * frame on screen each track shows its keyframe (solid) or its interpolated box (dashed); the
 * tracker's proposals are dashed in their own colour. Drawing a box makes a new track with a
 * keyframe here; moving or resizing a box makes (or changes) the keyframe here. Others' values
 * (review: each annotator's, gold, the model's) are drawn under the answer at this frame (Others.tsx).
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { bboxFamily } from "../questions/boxes";
import type { Ctx } from "../canvas/family";
import { snapPt, snapStep, type Pt } from "../canvas/geometry";
import { HandleMark } from "../canvas/layers";
import { noteValue, redoValue, labelForKey } from "../canvas/shape";
import { FIT, pan, zoomAt, ZOOM_STEP, type View } from "../canvas/viewport";
import type { ShapeQuestion, VideoTracksQuestion } from "../types";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import * as act from "./actions";
import { Controls } from "./Controls";
import { OthersLegend, OtherTracks } from "./Others";
import { boxAt, freshId, newTrack, setBox } from "./interpolate";
import { notOurs, playerKey } from "./keys";
import { clockFor, useClock } from "./player";
import { useVideoSource } from "./source";
import { Timeline } from "./Timeline";
import { proposedAt } from "./tracker";
import { labelsOf, replaceShape, replaceTrack, shapeOn, trackIndex, tracksOf, type VideoUi } from "./tracks";
import "./video.css";

const DRAG_PX = 3;

type Gesture = { sx: number; sy: number; moved: boolean } & (
  | { kind: "pan"; view: View }
  | { kind: "move"; i: number; sh: boolean; start: Pt; orig: number[]; cur: number[] }
  | { kind: "handle"; i: number; sh: boolean; id: string; orig: number[]; cur: number[] }
  | { kind: "draw"; a: Pt; b: Pt }
);

export function colourOfLabel(q: VideoTracksQuestion | { labels: VideoTracksQuestion["labels"] }, label: string): string {
  const i = labelsOf(q as VideoTracksQuestion).findIndex((l) => l.value === label);
  return `lab-${Math.max(0, i) % 8}`;
}

const fmt = (b: number[]) => b.map((x) => String(x)).join(",");

export function VideoStage(props: ViewProps<VideoTracksQuestion>) {
  const { q, active, activate, data } = props;
  const reference = typeof data[q.target] === "string" ? (data[q.target] as string) : "";
  const source = useVideoSource(reference);
  const clock = clockFor(reference);
  const s = useClock(clock);
  const value = tracksOf(props.value);
  const ui: VideoUi = props.ui.video ?? {};
  const setUi = (u: VideoUi) => props.setUi({ ...props.ui, video: u });
  noteValue(q.name, props.value);
  const video = useRef<HTMLVideoElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [view, setView] = useState<View>(FIT);
  const [gesture, setGesture] = useState<Gesture | null>(null);

  useEffect(() => {
    clock.attach(video.current, source.times);
  }, [video.current, source.times, source.src]);
  useEffect(() => setView(FIT), [reference]);

  const meta = source.meta;
  const W = meta?.width ?? 1;
  const H = meta?.height ?? 1;
  const frame = s.frame >= 0 ? s.frame : s.target;
  const count = meta?.frameCount ?? null;

  const actions: act.TrackActions = {
    q, value, ui, setUi, clock, frameCount: count, itemId: props.itemId, set: (v) => props.set(v),
  };
  const ref = useRef(actions);
  ref.current = actions;

  const ppx = () => {
    const r = svg.current?.getBoundingClientRect();
    return r && r.width > 0 ? r.width / W : 1;
  };
  const ctx = (): Ctx => {
    const k = ppx();
    return { q: q as unknown as ShapeQuestion, img: { width: W, height: H }, ppx: k, step: snapStep(k) };
  };
  const point = (e: { clientX: number; clientY: number }): Pt => {
    const r = svg.current!.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * W, ((e.clientY - r.top) / r.height) * H];
  };
  const snapped = (e: { clientX: number; clientY: number }): Pt => {
    const c = ctx();
    return snapPt(point(e), c.step, c.img);
  };
  const labelIndex = Math.min(ui.label ?? 0, labelsOf(q).length - 1);
  const selectedIndex = trackIndex(value, ui.selected);
  // Per-frame shapes live on their own frame only: the selected one counts while it is on screen.
  const shapeIndex = shapeOn(value, ui, frame);

  const onPointerDown = (e: PointerEvent) => {
    if (!meta) return;
    activate();
    host.current?.focus({ preventScroll: true });
    if (s.playing) clock.pause();
    const base = { sx: e.clientX, sy: e.clientY, moved: false };
    const capture = () => host.current?.setPointerCapture(e.pointerId);
    if (e.button === 1 || (e.button === 0 && e.ctrlKey)) {
      e.preventDefault();
      capture();
      return setGesture({ ...base, kind: "pan", view });
    }
    if (e.button !== 0) return;
    const target = e.target as Element;
    const handle = target.closest<SVGElement>("[data-handle]")?.dataset.handle;
    const hitEl = target.closest<SVGElement>("[data-track]");
    const hit = hitEl ? trackIndex(value, hitEl.dataset.track) : null;
    const shapeEl = target.closest<SVGElement>("[data-shape]");
    const hitShape = shapeEl ? Number(shapeEl.dataset.shape) : null;
    if (handle && shapeIndex !== null) {
      const box = value.shapes[shapeIndex]!.box;
      capture();
      return setGesture({ ...base, kind: "handle", i: shapeIndex, sh: true, id: handle, orig: box, cur: box });
    }
    if (handle && selectedIndex !== null) {
      const shown = boxAt(value.tracks[selectedIndex]!, frame, count);
      if (shown) {
        capture();
        return setGesture({ ...base, kind: "handle", i: selectedIndex, sh: false, id: handle, orig: shown.box, cur: shown.box });
      }
    }
    if (hitShape !== null && value.shapes[hitShape]) {
      const box = value.shapes[hitShape]!.box;
      setUi({ ...ui, shape: hitShape, selected: null, notice: "" });
      capture();
      return setGesture({ ...base, kind: "move", i: hitShape, sh: true, start: point(e), orig: box, cur: box });
    }
    if (hit !== null) {
      const shown = boxAt(value.tracks[hit]!, frame, count);
      setUi({ ...ui, selected: value.tracks[hit]!.id, shape: null, notice: "" });
      if (shown) {
        capture();
        setGesture({ ...base, kind: "move", i: hit, sh: false, start: point(e), orig: shown.box, cur: shown.box });
      }
      return;
    }
    capture();
    const p = snapped(e);
    setGesture({ ...base, kind: "draw", a: p, b: p });
  };

  const onPointerMove = (e: PointerEvent) => {
    const g = gesture;
    if (!g || !meta) return;
    const moved = g.moved || Math.hypot(e.clientX - g.sx, e.clientY - g.sy) > DRAG_PX;
    if (g.kind === "pan") {
      return setGesture({ ...g, moved }), setView(pan(g.view, e.clientX - g.sx, e.clientY - g.sy));
    }
    if (!moved) return;
    const c = ctx();
    const o = { label: "", box: g.kind === "draw" ? [] : g.orig };
    if (g.kind === "move") {
      const p = point(e);
      const d = (v: number) => Math.round(v / c.step) * c.step;
      return setGesture({ ...g, moved, cur: bboxFamily.translate(o, d(p[0] - g.start[0]), d(p[1] - g.start[1]), c).box! });
    }
    if (g.kind === "handle") return setGesture({ ...g, moved, cur: bboxFamily.dragHandle!(o, g.id, snapped(e), c, e.shiftKey).box! });
    return setGesture({ ...g, moved, b: snapped(e) });
  };

  const onPointerUp = (e: PointerEvent) => {
    const g = gesture;
    if (!g) return;
    host.current?.releasePointerCapture?.(e.pointerId);
    setGesture(null);
    if (!meta || g.kind === "pan") return;
    if (g.kind === "move" || g.kind === "handle") {
      if (!g.moved || fmt(g.cur) === fmt(g.orig)) return;
      if (g.sh) {
        props.set(replaceShape(value, g.i, { ...value.shapes[g.i]!, box: g.cur }));
        return setUi({ ...ui, shape: g.i, selected: null, notice: `Shape on frame ${frame} changed.` });
      }
      const t = value.tracks[g.i]!;
      props.set(replaceTrack(value, g.i, setBox(t, frame, g.cur)));
      return setUi({ ...ui, selected: t.id, notice: `Keyframe at frame ${frame}.` });
    }
    if (!g.moved) return setUi({ ...ui, selected: null, shape: null, notice: "" });
    const o = bboxFamily.fromDrag!(g.a, g.b, "", ctx());
    if (!o) return setUi({ ...ui, notice: "Too small to be a box." });
    const label = labelsOf(q)[labelIndex]!.value;
    if (ui.perFrame) {
      props.set({ ...value, shapes: [...value.shapes, { frame, label, box: o.box! }] });
      return setUi({ ...ui, shape: value.shapes.length, selected: null, notice: `New ${label} shape on frame ${frame} only.` });
    }
    const t = newTrack(freshId(value.tracks), label, frame, o.box!);
    props.set({ ...value, tracks: [...value.tracks, t] });
    setUi({ ...ui, selected: t.id, notice: `New track ${t.id} (${label}) from frame ${frame}.` });
  };

  const onWheel = (e: WheelEvent) => {
    if (!meta) return;
    e.preventDefault();
    const r = host.current!.getBoundingClientRect();
    setView((v) => zoomAt(v, 2 ** (-e.deltaY / 200), [e.clientX - r.left, e.clientY - r.top]));
  };

  useEffect(() => {
    if (!active || !meta) return;
    const down = (e: KeyboardEvent) => {
      if (notOurs(e)) return;
      if (trackKey(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    addEventListener("keydown", down, true);
    return () => removeEventListener("keydown", down, true);
  }, [active, meta !== null]);

  /** A key of the tracks workbench; true when used. */
  const trackKey = (e: KeyboardEvent): boolean => {
    const a = ref.current;
    const labels = labelsOf(a.q);
    if (labels.some((l) => l.key === e.key)) return false; // a class's own key picks the class
    if (e.ctrlKey && ((e.shiftKey && e.key.toLowerCase() === "z") || e.key === "y")) {
      const v = redoValue(a.q.name);
      if (v === undefined) a.setUi({ ...a.ui, notice: "Nothing to redo." });
      else props.set(v);
      return true;
    }
    if (playerKey(a.clock, e)) return true;
    if (e.ctrlKey) return false;
    const f = act.frameOf(a);
    const sel = trackIndex(a.value, a.ui.selected);
    const shp = shapeOn(a.value, a.ui, f);
    switch (e.key) {
      case "f": return act.togglePerFrame(a), true;
      case "o": return act.outside(a), true;
      case "i": return act.occluded(a), true;
      case "/": return act.splitHere(a), true;
      case "Delete":
        if (shp !== null) return act.removeShape(a), true;
        return e.shiftKey ? act.removeTrack(a) : act.removeKeyframe(a), true;
      case "t": return act.track(a, a.q.target, () => ref.current), true;
      case "y": return act.acceptTracked(a, true), true;
      case "Y": return act.acceptTracked(a, false), true;
      case "Tab": return act.nextTrack(a, e.shiftKey ? -1 : 1), true;
      case "Escape":
        if (act.stopTracking(a)) return true;
        if (sel !== null || shp !== null) return a.setUi({ ...a.ui, selected: null, shape: null, notice: "" }), true;
        return false;
      case "+": case "=": return setView((v) => zoomAt(v, ZOOM_STEP, centre())), true;
      case "-": return setView((v) => zoomAt(v, 1 / ZOOM_STEP, centre())), true;
      case "0": return setView(FIT), true;
    }
    const arrow: Record<string, Pt> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const dir = arrow[e.key];
    if (dir && shp !== null) {
      const k = e.shiftKey ? 10 : 1;
      const sh = a.value.shapes[shp]!;
      const moved = bboxFamily.translate({ label: "", box: sh.box }, dir[0] * k, dir[1] * k, ctx()).box!;
      props.set(replaceShape(a.value, shp, { ...sh, box: moved }));
      return true;
    }
    if (dir && sel !== null) {
      const t = a.value.tracks[sel]!;
      const shown = boxAt(t, f, a.frameCount);
      if (!shown) return false;
      const k = e.shiftKey ? 10 : 1;
      const moved = bboxFamily.translate({ label: "", box: shown.box }, dir[0] * k, dir[1] * k, ctx()).box!;
      props.set(replaceTrack(a.value, sel, setBox(t, f, moved)));
      return true;
    }
    const picked = labelForKey(labels, e.key, true);
    if (picked !== null) return act.relabel(a, picked), true;
    return false;
  };
  const centre = (): Pt => {
    const r = host.current?.getBoundingClientRect();
    return r ? [r.width / 2, r.height / 2] : [0, 0];
  };

  if (!reference) return <p class="media-ref muted">No video.</p>;
  if (source.error) return <p class="media-ref notice" role="status">{source.error}</p>;
  if (source.variant === "url") {
    return (
      <div class="video-stage" data-question={q.name}>
        <video class="media" src={source.src!} controls preload="metadata" aria-label={`video ${title(q)}`} />
        <p class="media-ref notice" role="status">
          This video is given by its address, not stored: it has no frame table, so tracks cannot be drawn
          on it frame by frame. Import the file to label it.
        </p>
      </div>
    );
  }
  const loading = !source.ready || !source.src;
  const live = gesture && gesture.kind !== "pan" && gesture.kind !== "draw" && gesture.moved ? gesture : null;
  const c = { q: q as unknown as ShapeQuestion, img: { width: W, height: H }, ppx: ppx(), step: 1 };
  const selShown = selectedIndex !== null ? boxAt(value.tracks[selectedIndex]!, frame, count) : null;
  const handleBox = live ? live.cur : shapeIndex !== null ? value.shapes[shapeIndex]!.box : selShown?.box;
  const handles = handleBox && (selectedIndex !== null || shapeIndex !== null)
    ? bboxFamily.handles!({ label: "", box: handleBox }, c) : [];
  const liveLabel = live ? (live.sh ? value.shapes[live.i]!.label : value.tracks[live.i]!.label) : "";
  const proposed = ui.proposal ? proposedAt(ui.proposal, frame) : null;

  return (
    <div class="video-stage" data-question={q.name} data-ready={String(!loading && s.frame >= 0)}>
      <div ref={host} class={`video-view${gesture?.kind === "pan" ? " panning" : ""}`} tabIndex={0} role="application"
        aria-label={`video to draw on for ${title(q)}: ${value.tracks.length} tracks, ${value.shapes.length} per-frame shapes${ui.perFrame ? " (drawing per-frame shapes)" : ""}`} aria-roledescription="video canvas"
        aria-busy={!!ui.tracking || loading}
        onFocus={activate} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
        onPointerCancel={() => setGesture(null)} onWheel={onWheel} onContextMenu={(e) => e.preventDefault()}
        onMouseDown={(e) => e.button === 1 && e.preventDefault()}>
        <div class="video-box" style={{ aspectRatio: `${W} / ${H}`, transform: `translate(${view.tx}px, ${view.ty}px) scale(${view.k})` }}>
          {source.src && (
            <video ref={video} class="video-el" src={source.src} preload="auto" muted playsInline
              disablePictureInPicture aria-label={`video ${title(q)}`} />
          )}
          {meta && (
            <svg ref={svg} class="video-svg" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none">
              <OtherTracks others={props.others} frame={frame} count={count} off={ui.off} />
              <g class="objects">
                {value.tracks.map((t, i) => {
                  if (live && !live.sh && live.i === i) return null;
                  const b = boxAt(t, frame, count);
                  if (!b) return null;
                  const [x1, y1, x2, y2] = b.box as [number, number, number, number];
                  const cls = `obj ${colourOfLabel(q, t.label)} ${b.keyframe ? "kf" : "interp"}${b.occluded ? " occ" : ""}${i === selectedIndex ? " sel" : ""}`;
                  return (
                    <g class={cls} data-track={t.id} data-box={fmt(b.box)} data-keyframe={String(b.keyframe)}>
                      <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} />
                    </g>
                  );
                })}
                {value.shapes.map((sh, k) => {
                  if (sh.frame !== frame || (live && live.sh && live.i === k)) return null;
                  const [x1, y1, x2, y2] = sh.box as [number, number, number, number];
                  return (
                    <g class={`obj kf shape ${colourOfLabel(q, sh.label)}${k === shapeIndex ? " sel" : ""}`}
                      data-shape={k} data-box={fmt(sh.box)} data-keyframe="true">
                      <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} />
                    </g>
                  );
                })}
              </g>
              <g class="live">
                {proposed && (
                  <rect class="proposal" data-box={fmt(proposed)} x={proposed[0]} y={proposed[1]}
                    width={proposed[2]! - proposed[0]!} height={proposed[3]! - proposed[1]!} />
                )}
                {live && (
                  <g class={`obj sel ${colourOfLabel(q, liveLabel)}`} data-track={live.sh ? undefined : value.tracks[live.i]!.id}>
                    <rect x={live.cur[0]} y={live.cur[1]} width={live.cur[2]! - live.cur[0]!} height={live.cur[3]! - live.cur[1]!} />
                  </g>
                )}
                {gesture?.kind === "draw" && gesture.moved && (
                  <rect class={`drawing ${colourOfLabel(q, labelsOf(q)[labelIndex]!.value)}`} x={Math.min(gesture.a[0], gesture.b[0])}
                    y={Math.min(gesture.a[1], gesture.b[1])} width={Math.abs(gesture.b[0] - gesture.a[0])}
                    height={Math.abs(gesture.b[1] - gesture.a[1])} />
                )}
                {handles.map((h) => <HandleMark h={h} ppx={c.ppx} on={false} />)}
              </g>
            </svg>
          )}
        </div>
        {loading && <p class="media-ref muted video-loading">Loading the video…</p>}
      </div>
      <Controls clock={clock} s={s} variant={source.variant} />
      <OthersLegend others={props.others} off={ui.off} setOff={(id, hidden) => setUi({
        ...ui, off: hidden ? [...(ui.off ?? []).filter((x) => x !== id), id] : (ui.off ?? []).filter((x) => x !== id),
      })} />
      {count !== null && (
        <Timeline clock={clock} frame={frame} count={count} tracks={value.tracks} selected={ui.selected}
          select={(id) => setUi({ ...ui, selected: id, shape: null, notice: "" })} colour={(l) => colourOfLabel(q, l)}
          shapes={value.shapes} selectShape={(k) => setUi({ ...ui, shape: k, selected: null, notice: "" })} />
      )}
      <p class="video-status" role="status" aria-live="polite">
        {ui.tracking && <span class="spinner" aria-hidden="true" />}
        {ui.tracking ? "The tracker is working… (Escape stops it)" : ui.notice}
      </p>
    </div>
  );
}
