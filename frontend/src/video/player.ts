/**
 * The frame clock of a video element: which frame is on screen, always known exactly.
 *
 * Frame numbers are the unit of truth (docs/video.md). The server's frame table gives every
 * frame's presentation time t_i; frame i is on screen for currentTime in [t_i, t_(i+1)). To show
 * frame N the player sets currentTime to the middle of that interval (away from both edges, where
 * rounding in the decoder's clock would land on a neighbour), then waits for the browser to present
 * a frame (`requestVideoFrameCallback`) and reads that frame's own presentation time
 * (`metadata.mediaTime`): the frame shown is the i with t_i <= mediaTime < t_(i+1). Only then is
 * frame N confirmed; another frame is tried again from its own start. While playing, every
 * presented frame updates the number the same way. Nothing is ever derived from
 * currentTime * fps (wrong for variable frame rates and for streams that do not start at 0).
 *
 * One clock per video reference, so that every question on the same video (tracks, events) sees
 * the same frame (`clockFor`).
 */

import { useEffect, useState } from "preact/hooks";

/** Times within this of a frame's start count as that frame (the media clock's rounding). */
const EPS = 1e-4;
/** Seeks tried again before the player settles for the frame it got. */
const RETRIES = 1;
/** Seeks made again while the browser still reports the picture from before the seek. */
const STALE_RETRIES = 4;
/** How long after `seeked` a seek that presented no new frame is taken to show the last one. */
const HELD_MS = 300;
/** Playback rate when playing into a frame that seeking does not show. */
const PLAY_INTO_RATE = 0.25;

export const RATES = [0.25, 0.5, 0.75, 1, 1.5, 2];

interface FrameMeta {
  mediaTime: number;
}
type VideoWithFrames = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: FrameMeta) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

/** Whether the browser tells which frame it presented (`requestVideoFrameCallback`). */
function canWatch(el: HTMLVideoElement): boolean {
  return typeof (el as { requestVideoFrameCallback?: unknown }).requestVideoFrameCallback === "function";
}

export interface ClockState {
  /** The frame on screen (as the browser presented it), -1 before the first. */
  frame: number;
  /** The frame asked for last. */
  target: number;
  /** The frame on screen is the one asked for. */
  confirmed: boolean;
  playing: boolean;
  rate: number;
  frameCount: number;
  /** Milliseconds the last seek took until its frame was presented. */
  lastSeekMs: number | null;
  /** The presented frame's own time when known, else (fallback) the media clock the seek set. */
  mediaTime: number | null;
  via: "frame" | "held" | "clock";
  /** How the frame was reached: one seek, a second one, or playing into it (`playInto`). */
  route: "seek" | "retry" | "play";
  /** The frames presented on the way (a retry or playing into the frame), for diagnosis. */
  missed: number[];
}

/** The frame on screen at media time `t`: the last i with times[i] <= t (binary search). */
export function frameAtTime(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t + EPS) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Where to seek to show frame n: the middle of [t_n, t_(n+1)) (the last frame: half its length). */
export function seekTime(times: readonly number[], n: number, duration: number | null): number {
  const t = times[n]!;
  const next = times[n + 1];
  if (next !== undefined) return (t + next) / 2;
  const before = n > 0 ? t - times[n - 1]! : 0.04;
  const end = duration !== null && Number.isFinite(duration) && duration > t ? duration : t + before;
  return t + Math.min(before, end - t) / 2;
}

export class FrameClock {
  state: ClockState = {
    frame: -1, target: 0, confirmed: false, playing: false, rate: 1, frameCount: 0, lastSeekMs: null,
    mediaTime: null, via: "frame", route: "seek", missed: [],
  };
  private el: VideoWithFrames | null = null;
  private times: number[] = [];
  private listeners = new Set<() => void>();
  private token = 0;
  private tries = 0;
  private playedInto = false;
  /** The presented frame's time when the seek was asked for (what a stale callback repeats). */
  private startMediaTime: number | null = null;
  private started = 0;
  private playHandle: number | null = null;

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private update(change: Partial<ClockState>): void {
    this.state = { ...this.state, ...change };
    for (const fn of this.listeners) fn();
  }

  /** The element and frame table to work with (a new item: a new element or table). */
  attach(el: HTMLVideoElement | null, times: number[] | null): void {
    if (this.el === el && this.times === times) return;
    this.stopWatching();
    this.el = el as VideoWithFrames | null;
    this.times = times ?? [];
    this.token += 1;
    this.update({ frame: -1, target: 0, confirmed: false, playing: false, frameCount: this.times.length, lastSeekMs: null });
    if (el && this.times.length) {
      el.playbackRate = this.state.rate;
      const first = () => this.seek(0);
      if (el.readyState >= 1) first();
      else el.addEventListener("loadedmetadata", first, { once: true });
    }
  }

  /** Show frame n (clamped to the video), and confirm it from the presented frame's own time. */
  seek(n: number): void {
    const el = this.el;
    const count = this.times.length;
    if (!el || !count) return;
    if (!el.paused) this.pause(false);
    const target = Math.max(0, Math.min(count - 1, Math.round(n)));
    this.tries = 0;
    this.playedInto = false;
    this.startMediaTime = this.state.mediaTime;
    this.started = performance.now();
    this.update({ target, confirmed: false, lastSeekMs: null, missed: [] });
    this.go(target);
  }

  step(by: number): void {
    const from = this.state.confirmed || this.state.frame < 0 ? this.state.target : this.state.frame;
    this.seek(from + by);
  }

  private go(target: number): void {
    const el = this.el!;
    const token = ++this.token;
    // From its start on a retry: the middle did not show it (a table off by a rounding).
    const mid = seekTime(this.times, target, el.duration);
    const t = this.tries === 0 ? mid : Math.min(mid, this.times[target]! + EPS * 5 * this.tries);
    if (Math.abs(el.currentTime - t) < 1e-9 && !el.seeking && this.state.frame === target) {
      return this.presented(token, this.state.mediaTime ?? this.times[target]!);
    }
    this.whenPresented(token, (mediaTime, via) => this.presented(token, mediaTime, via));
    el.currentTime = t;
  }

  /**
   * Calls `then` with the presented frame's time once the seek under way has shown one. A seek
   * onto the picture already on screen presents no new frame: then, a while after `seeked`, the
   * frame is the one presented last (never a number made from currentTime, unless no frame was
   * ever presented).
   */
  private whenPresented(token: number, then: (mediaTime: number, via: ClockState["via"]) => void): void {
    const el = this.el!;
    let done = false;
    const once = (t: number, via: ClockState["via"]) => {
      if (done || token !== this.token) return;
      done = true;
      then(t, via);
    };
    // Chromium presents the sought frame (and calls back) just before it ends the seek (`seeking`
    // is still true then): a frame presented while seeking is the answer unless it is the picture
    // from before the seek.
    const before = this.state.mediaTime;
    const wait = () => el.requestVideoFrameCallback!((_now, meta) => {
      if (el.seeking && meta.mediaTime === before) return void wait();
      once(meta.mediaTime, "frame");
    });
    if (!canWatch(el)) {
      // A browser without the callback: the frame is the table's at the time the seek set (the
      // middle of the frame's interval), the best it can say.
      el.addEventListener("seeked", () => once(el.currentTime, "clock"), { once: true });
      return;
    }
    wait();
    el.addEventListener("seeked", () => setTimeout(() => {
      const last = this.state.mediaTime;
      once(last ?? el.currentTime, last === null ? "clock" : "held");
    }, HELD_MS), { once: true });
  }

  private presented(token: number, mediaTime: number, via: ClockState["via"] = "frame"): void {
    if (token !== this.token) return;
    this.token += 1;
    const frame = frameAtTime(this.times, mediaTime);
    const target = this.state.target;
    // Under load Chromium may call back with the picture that was on screen before the seek (its
    // own time, once the seek has finished): that seek is simply made again, a few times.
    const stale = mediaTime === this.startMediaTime && via === "frame";
    if (frame !== target && (this.tries < RETRIES || (stale && this.tries < STALE_RETRIES))) {
      this.tries += 1;
      this.update({ frame, mediaTime, missed: [...this.state.missed, frame] });
      return this.go(target);
    }
    if (frame !== target && target > 0 && !this.playedInto && this.el && canWatch(this.el)) {
      this.playedInto = true;
      this.update({ frame, mediaTime, missed: [...this.state.missed, frame] });
      return this.playInto(target);
    }
    const route = this.playedInto ? "play" : this.tries ? "retry" : "seek";
    this.playedInto = false;
    this.update({ frame, confirmed: frame === target, lastSeekMs: performance.now() - this.started, mediaTime, via, route });
  }

  /**
   * The last way to a frame that no seek shows: Chromium, on some variable-frame-rate files with
   * B-frames, shows the next frame for every time inside a few frames' intervals (the last one
   * before a keyframe). Playing slowly from the frame before, and pausing as soon as the frame asked
   * for is presented, shows it.
   */
  private playInto(target: number): void {
    const el = this.el as VideoWithFrames;
    const token = ++this.token;
    const before = target - 1;
    const run = () => {
      if (token !== this.token) return;
      const step = (_now: number, meta: FrameMeta) => {
        if (token !== this.token) return;
        if (meta.mediaTime >= this.times[target]! - EPS || el.ended) {
          el.pause();
          el.playbackRate = this.state.rate;
          this.presented(token, meta.mediaTime);
        } else el.requestVideoFrameCallback!(step);
      };
      el.requestVideoFrameCallback!(step);
      el.playbackRate = PLAY_INTO_RATE;
      void el.play().catch(() => this.presented(token, this.state.mediaTime ?? el.currentTime));
    };
    el.addEventListener("seeked", run, { once: true });
    el.currentTime = seekTime(this.times, before, el.duration);
  }

  play(): void {
    const el = this.el;
    if (!el || !this.times.length) return;
    if (this.state.frame >= this.times.length - 1) this.seek(0);
    this.token += 1;
    el.playbackRate = this.state.rate;
    void el.play().catch(() => this.update({ playing: false }));
    this.update({ playing: true, confirmed: false });
    this.watch();
  }

  /** Pause, and settle on the frame that was on screen (seeked to its middle, confirmed again). */
  pause(settle = true): void {
    const el = this.el;
    if (!el) return;
    el.pause();
    this.stopWatching();
    this.update({ playing: false });
    if (settle && this.state.frame >= 0) this.seek(this.state.frame);
  }

  toggle(): void {
    if (this.state.playing) this.pause();
    else this.play();
  }

  setRate(rate: number): void {
    if (this.el) this.el.playbackRate = rate;
    this.update({ rate });
  }

  /** While playing: the number of every presented frame, from its own presentation time. */
  private watch(): void {
    const el = this.el;
    if (!el || !canWatch(el)) return;
    const token = this.token;
    const next = (_now: number, meta: FrameMeta) => {
      if (token !== this.token || !this.state.playing) return;
      const frame = frameAtTime(this.times, meta.mediaTime);
      if (frame !== this.state.frame) this.update({ frame, target: frame });
      this.playHandle = el.requestVideoFrameCallback!(next);
    };
    this.playHandle = el.requestVideoFrameCallback(next);
    el.addEventListener("ended", () => token === this.token && this.pause(), { once: true });
  }

  private stopWatching(): void {
    if (this.playHandle !== null) this.el?.cancelVideoFrameCallback?.(this.playHandle);
    this.playHandle = null;
  }
}

const clocks = new Map<string, FrameClock>();

/** The clock of a video reference, shared by every question on it. */
export function clockFor(reference: string): FrameClock {
  let c = clocks.get(reference);
  if (!c) {
    c = new FrameClock();
    clocks.set(reference, c);
    // Only the videos of the last few items are kept.
    if (clocks.size > 8) clocks.delete(clocks.keys().next().value!);
  }
  return c;
}

/** The clock's state, re-rendering the caller whenever it changes. */
export function useClock(clock: FrameClock): ClockState {
  const [, bump] = useState(0);
  useEffect(() => clock.subscribe(() => bump((n) => n + 1)), [clock]);
  return clock.state;
}
