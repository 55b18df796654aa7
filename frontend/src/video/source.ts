/**
 * Where a video comes from (docs/video.md, "Video items and blobs"): for a stored file, its
 * `/info` (displayed size, frame count, which variants exist) and its frame table
 * (`?variant=frames`: every frame's presentation time as the media clock counts it), fetched in
 * parallel when the item changes; the element plays the `proxy` variant when there is one, the
 * original otherwise. Coordinates are always the original's displayed pixels.
 *
 * A video given by URL is not probed: it has no frame table, so it plays, but frame-exact work
 * (tracks, events) needs a stored file, and the page says so.
 */

import { useEffect, useState } from "preact/hooks";
import { isStored, safeMediaUrl } from "../media";

export interface VideoMeta {
  width: number;
  height: number;
  frameCount: number;
  fps: number | null;
  vfr: boolean;
}

export interface VideoSource {
  /** The reference it was loaded for. */
  reference: string;
  /** What the element plays (the proxy or the original), or null when not safe to load. */
  src: string | null;
  /** Which file that is, for the annotator and the benchmark. */
  variant: "proxy" | "original" | "url";
  meta: VideoMeta | null;
  /** Presentation time of every frame, in display order. */
  times: number[] | null;
  error: string;
  ready: boolean;
}

interface Info {
  video?: { width?: number; height?: number; frame_count?: number; fps?: number; vfr?: boolean } | null;
  /** Each variant's file, by name (`proxy`, `frames`, `poster`), null when there is none. */
  [variant: string]: unknown;
}

/** Whether the info lists a variant (its file by name, or a list `variants`). */
function hasVariant(info: Info, name: string): boolean {
  if (info[name] && typeof info[name] === "object") return true;
  const v = info.variants;
  if (Array.isArray(v)) return v.includes(name);
  return !!v && typeof v === "object" && name in v && !!(v as Record<string, unknown>)[name];
}

function variantUrl(reference: string, variant: string): string | null {
  const url = safeMediaUrl(reference, location.href, "original");
  if (!url) return null;
  const u = new URL(url);
  u.searchParams.set("variant", variant);
  return u.href;
}

/** Checks the frame table: numbers, in increasing order, as many as the frame count. */
export function parseFrames(j: unknown): number[] {
  const o = j as { frame_count?: unknown; times?: unknown } | null;
  const times = o?.times;
  if (!Array.isArray(times) || !times.length || !times.every((t) => typeof t === "number" && Number.isFinite(t))) {
    throw new Error("The frame table of this video cannot be read.");
  }
  for (let i = 1; i < times.length; i++) {
    if (!(times[i]! > times[i - 1]!)) throw new Error("The frame table of this video is not in time order.");
  }
  if (typeof o!.frame_count === "number" && o!.frame_count !== times.length) {
    throw new Error("The frame table of this video does not match its frame count.");
  }
  return times as number[];
}

const EMPTY = (reference: string): VideoSource => ({
  reference, src: null, variant: "original", meta: null, times: null, error: "", ready: false,
});

export function useVideoSource(reference: unknown): VideoSource {
  const ref = typeof reference === "string" ? reference : "";
  const [got, setGot] = useState<VideoSource>(() => EMPTY(ref));
  useEffect(() => {
    if (!isStored(ref)) {
      const src = safeMediaUrl(ref, location.href, "original");
      setGot({
        ...EMPTY(ref), src, variant: "url", ready: true,
        error: src ? "" : "This video is not shown: its address is neither a stored file nor an http(s) URL.",
      });
      return;
    }
    setGot(EMPTY(ref));
    const ctl = new AbortController();
    const original = safeMediaUrl(ref, location.href, "original")!;
    const infoUrl = new URL(original);
    infoUrl.pathname += "/info";
    infoUrl.search = "";
    const fail = (e: unknown) => {
      if (!ctl.signal.aborted) setGot({ ...EMPTY(ref), error: e instanceof Error ? e.message : String(e), ready: true });
    };
    const json = (url: string, what: string) => fetch(url, { signal: ctl.signal, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`The ${what} of this video could not be loaded (${r.status}).`))));
    Promise.all([json(infoUrl.href, "description") as Promise<Info>, json(variantUrl(ref, "frames")!, "frame table")])
      .then(([info, frames]) => {
        if (ctl.signal.aborted) return;
        const v = info.video;
        if (!v || !v.width || !v.height) throw new Error("The server has not probed this file as a video.");
        const times = parseFrames(frames);
        const proxy = hasVariant(info, "proxy");
        setGot({
          reference: ref,
          src: proxy ? variantUrl(ref, "proxy") : original,
          variant: proxy ? "proxy" : "original",
          meta: { width: v.width, height: v.height, frameCount: times.length, fps: v.fps ?? null, vfr: !!v.vfr },
          times,
          error: "",
          ready: true,
        });
      })
      .catch(fail);
    return () => ctl.abort();
  }, [ref]);
  return got.reference === ref ? got : EMPTY(ref);
}
