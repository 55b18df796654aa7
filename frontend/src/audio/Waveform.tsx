/**
 * The waveform of an `audio_segments` question, in the item in the audio field's place: the
 * server's peaks drawn on a <canvas> (audio/peaks.ts; the page never decodes the audio), the
 * answer's segments over it, the model's suggested segments in a lane under it (in the review queue,
 * each person's segments in a lane of their own: audio/Lanes.tsx), a playhead that
 * follows an <audio> element playing the original (range requests), and the playback controls.
 *
 * Time is laid out on a horizontal scroller whose content is `duration / spp` CSS pixels wide
 * (spp: seconds per pixel, from the whole file fitted down to 1 ms per pixel; the peaks have one
 * bucket per 10 ms, so past that a bucket is stretched). The canvas is as wide as the view and
 * sticks to it; it is drawn again on scroll, zoom and resize. Segments are elements (hit testing,
 * their text as text), placed by their times.
 *
 * Mouse: drag to make a segment (from anywhere, also over another one when overlap is allowed),
 * drag a segment's edge to resize it, click a segment to select it, click elsewhere to move the
 * playhead, click a suggested segment to accept it, wheel to zoom about the pointer (Shift+wheel
 * scrolls). Keys: audio/keys.ts.
 */

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { isStored } from "../media";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import type { AudioSegmentsQuestion } from "../types";
import { Controls } from "./Controls";
import { ANSWER_LANE_H, AnswerLanes, answerLanes } from "./Lanes";
import { ownsKeys, waveKey, type Player, type WaveActions } from "./keys";
import { drawPeaks, drawTicks, peaksDuration } from "./peaks";
import {
  acceptSuggestion, clock, colourOf, edited, ms, nameOf, newSegment, openSuggestions, pickedSuggestion, place,
  segmentsOf, selectedIndex, span, type AudioUi, type Placed, type Segment,
} from "./segments";
import { useSource } from "./source";
import "./audio.css";

const WAVE_H = 120;
const LANE_H = 26;
const DRAG_PX = 3;
/** The finest zoom: 1 ms per CSS pixel. */
const MIN_SPP = 0.001;
/** A drag shorter than this (in seconds) makes no segment. */
const MIN_SEGMENT_S = 0.01;

type Gesture = { sx: number; moved: boolean } & (
  | { kind: "new"; a: number; b: number; hit: number | null }
  | { kind: "edge"; i: number; side: "start" | "end"; orig: Segment; cur: Segment; lo: number; hi: number }
  | { kind: "sug"; k: number }
);

/** Where the first frame with the waveform was drawn (the benchmark reads it). */
export const DRAWN_MARK = "labelloop:waveform-drawn";

export function Waveform(props: ViewProps<AudioSegmentsQuestion>) {
  const { q, value, set, active, activate, data, suggested, others } = props;
  const segs = segmentsOf(value);
  const ui: AudioUi = props.ui.audio ?? {};
  const setUi = (u: AudioUi) => props.setUi({ ...props.ui, audio: u });
  const source = useSource(data[q.target]);
  const { peaks } = source;
  const duration = source.duration ?? (peaks ? peaksDuration(peaks) : null);

  const audio = useRef<HTMLAudioElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const playhead = useRef<HTMLDivElement>(null);
  const clockRef = useRef<HTMLSpanElement>(null);
  const [width, setWidth] = useState(0);
  const [zoom, setZoom] = useState<number | null>(null); // seconds per pixel; null: the whole file
  const [playing, setPlaying] = useState(false);
  const [rate, setRate] = useState(1);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const drawn = useRef(false);

  const fit = duration && width ? duration / width : 1;
  const spp = Math.min(fit, Math.max(MIN_SPP, zoom ?? fit));
  const sppRef = useRef(spp);
  sppRef.current = spp;
  const total = duration ? Math.max(width, Math.round(duration / spp)) : width;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  const draw = () => {
    const c = canvas.current;
    const el = scroller.current;
    if (!c || !el || !width) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(width * dpr);
    const h = Math.round(WAVE_H * dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const g = c.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, w, h);
    const t0 = el.scrollLeft * sppRef.current;
    drawTicks(g, t0, sppRef.current / dpr, w, h, dpr);
    if (!peaks) return;
    g.fillStyle = "#3b6fb6";
    drawPeaks(g, peaks, t0, sppRef.current / dpr, w, h);
    if (!drawn.current) {
      drawn.current = true;
      performance.mark(DRAWN_MARK);
      host.current?.setAttribute("data-drawn", "true");
    }
  };
  useLayoutEffect(draw, [peaks, spp, width]);
  const frame = useRef(0);
  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      draw();
    });
  };

  // A zoom keeps the time at `anchorPx` (from the view's left edge) where it is.
  const pendingScroll = useRef<number | null>(null);
  const zoomTo = (next: number | "fit", anchorPx = width / 2) => {
    const el = scroller.current;
    if (!el || !duration) return;
    const target = next === "fit" ? fit : Math.min(fit, Math.max(MIN_SPP, spp / next));
    const t = (el.scrollLeft + anchorPx) * spp;
    pendingScroll.current = t / target - anchorPx;
    setZoom(next === "fit" ? null : target);
  };
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pendingScroll.current !== null) {
      el.scrollLeft = Math.max(0, pendingScroll.current);
      pendingScroll.current = null;
      draw();
    }
    placePlayhead();
  }, [spp]);

  /** Scroll so that time t is in view. */
  const reveal = (t: number) => {
    const el = scroller.current;
    if (!el) return;
    const x = t / sppRef.current;
    if (x < el.scrollLeft || x > el.scrollLeft + el.clientWidth - 10) el.scrollLeft = Math.max(0, x - el.clientWidth * 0.1);
  };

  const stateRef = useRef({ segs, ui });
  stateRef.current = { segs, ui };
  const placePlayhead = () => {
    const a = audio.current;
    if (!a) return;
    const t = a.currentTime;
    const loop = stateRef.current.ui.loop ? stateRef.current.segs[stateRef.current.ui.selected ?? -1] : undefined;
    if (loop && !a.paused && (t >= loop.end || t < loop.start - 0.25)) a.currentTime = loop.start;
    if (playhead.current) playhead.current.style.transform = `translateX(${t / sppRef.current}px)`;
    if (clockRef.current) clockRef.current.textContent = clock(t);
  };
  useEffect(() => {
    if (!playing) return;
    let id = 0;
    const tick = () => {
      placePlayhead();
      const el = scroller.current;
      const x = (audio.current?.currentTime ?? 0) / sppRef.current;
      if (el && (x > el.scrollLeft + el.clientWidth - 4 || x < el.scrollLeft)) el.scrollLeft = Math.max(0, x - el.clientWidth * 0.1);
      id = requestAnimationFrame(tick);
    };
    id = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(id);
  }, [playing]);

  const player: Player = {
    time: () => audio.current?.currentTime ?? 0,
    seek: (t) => {
      if (audio.current) audio.current.currentTime = Math.max(0, t);
      placePlayhead();
    },
    toggle: () => {
      const a = audio.current;
      if (!a) return;
      if (a.paused) void a.play().catch((e: unknown) => setUi({ ...stateRef.current.ui, notice: `Cannot play: ${e instanceof Error ? e.message : String(e)}` }));
      else a.pause();
    },
    rate: () => audio.current?.playbackRate ?? 1,
    setRate: (r) => {
      if (audio.current) audio.current.playbackRate = r;
      setRate(r);
    },
    duration: duration ?? 0,
  };

  const labelValue = () => q.labels[Math.min(ui.label ?? 0, q.labels.length - 1)]!.value;
  const commit = (r: Placed | string) => {
    if (typeof r === "string") return setUi({ ...ui, notice: r });
    set(r.value);
    setUi(r.ui);
  };
  const sug = segmentsOf(others?.find((o) => o.kind === "model")?.value);
  const open = openSuggestions(sug, segs, ui);
  const pick = pickedSuggestion(open, ui);
  const selected = selectedIndex(ui, segs);
  const lanes = answerLanes(others);
  const lanesTop = WAVE_H + (sug.length ? LANE_H : 0);

  const timeAt = (clientX: number) => {
    const el = scroller.current!;
    const x = clientX - el.getBoundingClientRect().left + el.scrollLeft;
    return ms(Math.min(duration ?? 0, Math.max(0, x * sppRef.current)));
  };

  const onPointerDown = (e: PointerEvent) => {
    if (!duration || e.button !== 0) return;
    activate();
    host.current?.focus({ preventScroll: true });
    const target = e.target as HTMLElement;
    if (target.closest(".wave-lane")) return player.seek(timeAt(e.clientX)); // others' segments are for looking
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const base = { sx: e.clientX, moved: false };
    const sugEl = target.closest<HTMLElement>("[data-sug]");
    if (sugEl) return setGesture({ ...base, kind: "sug", k: Number(sugEl.dataset.sug) });
    const edge = target.closest<HTMLElement>("[data-edge]");
    const segEl = target.closest<HTMLElement>("[data-seg]");
    const hit = segEl ? Number(segEl.dataset.seg) : null;
    if (edge && hit !== null) {
      const o = segs[hit]!;
      const side = edge.dataset.edge as "start" | "end";
      let [lo, hi] = [0, duration];
      if (!q.allow_overlap) {
        for (const s of segs) {
          if (s === o) continue;
          if (s.end <= o.start) lo = Math.max(lo, s.end);
          if (s.start >= o.end) hi = Math.min(hi, s.start);
        }
      }
      if (side === "start") hi = o.end - 0.001;
      else lo = o.start + 0.001;
      if (hit !== selected) setUi({ ...ui, selected: hit, notice: "" });
      return setGesture({ ...base, kind: "edge", i: hit, side, orig: o, cur: o, lo, hi });
    }
    const t = timeAt(e.clientX);
    setGesture({ ...base, kind: "new", a: t, b: t, hit });
  };

  const onPointerMove = (e: PointerEvent) => {
    const g = gesture;
    if (!g) return;
    const moved = g.moved || Math.abs(e.clientX - g.sx) > DRAG_PX;
    if (!moved) return;
    const t = timeAt(e.clientX);
    if (g.kind === "new") return setGesture({ ...g, moved, b: t });
    if (g.kind === "edge") {
      const v = ms(Math.min(g.hi, Math.max(g.lo, t)));
      return setGesture({ ...g, moved, cur: edited(g.orig, g.side === "start" ? { start: v } : { end: v }) });
    }
    setGesture({ ...g, moved });
  };

  const onPointerUp = () => {
    const g = gesture;
    if (!g) return;
    setGesture(null);
    if (g.kind === "sug") {
      if (!g.moved) commit(acceptSuggestion(q, segs, ui, sug, g.k));
      return;
    }
    if (g.kind === "edge") {
      if (g.moved && g.cur !== g.orig) {
        commit(place(q, segs, ui, g.cur, g.i, `Segment ${g.i + 1}: ${span(g.cur)}.`));
      }
      return;
    }
    if (!g.moved) {
      if (g.hit !== null) return setUi({ ...ui, selected: g.hit, loop: ui.loop && g.hit === selected, notice: "" });
      player.seek(g.a);
      if (selected !== null) setUi({ ...ui, selected: null, loop: false, notice: "" });
      return;
    }
    const [a, b] = g.a <= g.b ? [g.a, g.b] : [g.b, g.a];
    if (b - a < MIN_SEGMENT_S) return setUi({ ...ui, notice: "Too short to be a segment." });
    const r = place(q, segs, ui, newSegment(q, a, b, labelValue()), null);
    if (typeof r !== "string") r.ui = { ...r.ui, notice: `Segment ${r.ui.selected! + 1} added (${span(r.value[r.ui.selected!]!)}).` };
    commit(r);
  };

  const onWheel = (e: WheelEvent) => {
    if (!duration || e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) return; // scrolling sideways
    e.preventDefault();
    const el = scroller.current!;
    zoomTo(2 ** (-e.deltaY / 200), e.clientX - el.getBoundingClientRect().left);
  };

  const actions: WaveActions = {
    q, segs, ui, setUi, commit, player, zoom: (f) => zoomTo(f), reveal, labelValue, sug, open,
    onStage: !document.activeElement || document.activeElement === document.body || !!document.activeElement.closest(".wave-stage"),
  };
  const keyRef = useRef(actions);
  keyRef.current = actions;
  useEffect(() => {
    if (!active || !duration) return;
    let took = false; // a Space taken here must not also press the button that has the focus
    const down = (e: KeyboardEvent) => {
      const a = keyRef.current;
      a.onStage = !document.activeElement || document.activeElement === document.body || !!document.activeElement.closest(".wave-stage");
      if (waveKey(a, e)) {
        e.preventDefault();
        e.stopPropagation();
        took = e.key === " ";
      }
    };
    const up = (e: KeyboardEvent) => {
      if (took && e.key === " " && !ownsKeys(document.activeElement)) e.preventDefault();
      took = false;
    };
    addEventListener("keydown", down, true);
    addEventListener("keyup", up, true);
    return () => {
      removeEventListener("keydown", down, true);
      removeEventListener("keyup", up, true);
    };
  }, [active, !!duration]);

  // The next item starts at the beginning, fitted, paused.
  useEffect(() => {
    drawn.current = false;
    host.current?.removeAttribute("data-drawn");
    setZoom(null);
    setGesture(null);
    setPlaying(false);
  }, [source.src]);

  const live = gesture?.kind === "edge" && gesture.moved ? gesture : null;
  const x = (t: number) => t / spp;
  const loopSeg = ui.loop && selected !== null ? segs[selected] : null;

  return (
    <div class={`wave-stage${suggested ? " suggested" : ""}`} data-question={q.name} ref={host}
      data-duration={duration ?? undefined} data-spp={spp} tabIndex={0} role="application"
      aria-roledescription="waveform" aria-label={`audio to mark for ${title(q)}: ${segs.length} segments`}
      onFocus={activate}>
      {source.src === null ? (
        <p class="media-ref notice" role="status">
          {data[q.target] === undefined || data[q.target] === null || data[q.target] === ""
            ? "No audio in this item."
            : "This audio is not shown: its address is neither an http(s) URL, a relative path nor a stored file."}
        </p>
      ) : (
        <audio ref={audio} class="wave-audio" src={source.src} preload="metadata"
          onPlay={() => setPlaying(true)} onPause={() => (setPlaying(false), placePlayhead())}
          onSeeked={placePlayhead} onTimeUpdate={placePlayhead}
          onLoadedMetadata={(e) => {
            const d = (e.currentTarget as HTMLAudioElement).duration;
            if (source.duration === null && !peaks && Number.isFinite(d) && d > 0) source.setDuration(d);
          }}
          onRateChange={(e) => setRate((e.currentTarget as HTMLAudioElement).playbackRate)} />
      )}
      <div ref={scroller} class="wave-scroll" onScroll={onScroll} onWheel={onWheel}>
        <div class="wave-track" style={{ width: `${total}px`, height: `${lanesTop + lanes.length * ANSWER_LANE_H}px` }}
          onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
          onPointerCancel={() => setGesture(null)}>
          <canvas ref={canvas} class="wave-canvas" style={{ width: `${width}px`, height: `${WAVE_H}px` }} aria-hidden="true" />
          {segs.map((s, i) => {
            const shown = live && live.i === i ? live.cur : s;
            return (
              <div class={`wave-seg ${colourOf(q, s.label)}${i === selected ? " sel" : ""}${s === loopSeg ? " looping" : ""}`}
                data-seg={i} style={{ left: `${x(shown.start)}px`, width: `${Math.max(1, x(shown.end) - x(shown.start))}px` }}
                title={`${i + 1}: ${nameOf(q, s.label)} ${span(shown)}${s.text ? ` “${s.text}”` : ""}`}>
                <span class="wave-seg-label">{`${i + 1} ${nameOf(q, s.label)}`}</span>
                {q.transcript && s.text ? <span class="wave-seg-text">{s.text}</span> : null}
                <span class="wave-edge start" data-edge="start" />
                <span class="wave-edge end" data-edge="end" />
              </div>
            );
          })}
          {open.map((k) => {
            const s = sug[k]!;
            return (
              <div class={`wave-sug ${colourOf(q, s.label)}${k === pick ? " picked" : ""}`} data-sug={k}
                style={{ left: `${x(s.start)}px`, width: `${Math.max(1, x(s.end) - x(s.start))}px`, top: `${WAVE_H}px` }}
                title={`suggested: ${nameOf(q, s.label)} ${span(s)}${s.text ? ` “${s.text}”` : ""}`}>
                <span class="wave-seg-label">{s.text ? s.text : nameOf(q, s.label)}</span>
              </div>
            );
          })}
          <AnswerLanes q={q} layers={lanes} top={lanesTop} x={x} />
          {gesture?.kind === "new" && gesture.moved && (
            <div class={`wave-drawing ${colourOf(q, labelValue())}`}
              style={{ left: `${x(Math.min(gesture.a, gesture.b))}px`, width: `${Math.abs(x(gesture.b) - x(gesture.a))}px` }} />
          )}
          {ui.mark !== null && ui.mark !== undefined && <div class="wave-mark" style={{ left: `${x(ui.mark)}px` }} />}
          <div ref={playhead} class="wave-playhead" />
        </div>
      </div>
      <Controls playing={playing} rate={rate} loop={!!ui.loop} duration={duration} clockRef={clockRef}
        act={(f) => (activate(), f(keyRef.current))} />
      <p class="wave-status" role="status" aria-live="polite">
        {[
          source.error,
          !peaks && !source.error && source.src && isStored(data[q.target]) ? "Loading the waveform…" : "",
          ui.notice,
        ].filter(Boolean).join(" ")}
      </p>
    </div>
  );
}
