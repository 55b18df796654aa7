/**
 * Where a waveform's audio comes from: the original's URL (played by an <audio> element with range
 * requests), and for a stored file its peaks (`?variant=peaks`, audio/peaks.ts) and exact duration
 * (`/info`), fetched in parallel when the item changes. An audio field given by URL has neither:
 * its duration comes from the element's metadata.
 */

import { useEffect, useState } from "preact/hooks";
import { isStored, safeMediaUrl } from "../media";
import { parsePeaks, type Peaks } from "./peaks";

export interface Source {
  /** The original, or null when the reference is not safe to load. */
  src: string | null;
  peaks: Peaks | null;
  /** Seconds, as the server probed them (or the element found them); null until known. */
  duration: number | null;
  setDuration: (d: number) => void;
  error: string;
}

/** What was loaded, and for which original: nothing of the previous item is ever shown for the next. */
interface Loaded {
  src: string | null;
  peaks: Peaks | null;
  duration: number | null;
  error: string;
}

export function useSource(reference: unknown): Source {
  const src = safeMediaUrl(reference, location.href, "original");
  const stored = isStored(reference);
  const [got, setGot] = useState<Loaded>({ src, peaks: null, duration: null, error: "" });
  const update = (change: Partial<Loaded>) =>
    setGot((g) => (g.src === src ? { ...g, ...change } : { src, peaks: null, duration: null, error: "", ...change }));
  useEffect(() => {
    if (!src || !stored) return;
    const ctl = new AbortController();
    const peaksUrl = safeMediaUrl(reference, location.href, "peaks")!;
    const info = new URL(src);
    info.pathname += "/info";
    info.search = "";
    fetch(peaksUrl, { signal: ctl.signal })
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`The waveform could not be loaded (${r.status}).`))))
      .then((b) => update({ peaks: parsePeaks(b) }))
      .catch((e: unknown) => !ctl.signal.aborted && update({ error: e instanceof Error ? e.message : String(e) }));
    fetch(info.href, { signal: ctl.signal })
      .then((r) => (r.ok ? r.json() : null))
      .then((j: { audio?: { duration?: number } } | null) => {
        const d = j?.audio?.duration;
        if (typeof d === "number" && d > 0) update({ duration: d });
      })
      .catch(() => undefined);
    return () => ctl.abort();
  }, [src]);
  const mine = got.src === src ? got : { src, peaks: null, duration: null, error: "" };
  return { ...mine, src, setDuration: (d) => update({ duration: d }) };
}
