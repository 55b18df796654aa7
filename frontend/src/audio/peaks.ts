/**
 * The server's waveform peaks (docs/audio.md, "Peaks"): BBC audiowaveform's binary `.dat`,
 * version 1, 8-bit, little-endian. A 20-byte header (int32 version = 1, uint32 flags = 1,
 * int32 sample_rate, int32 samples_per_pixel, uint32 length), then `length` pairs of int8
 * (min, max) of the mono mixdown, one pair per bucket of `samples_per_pixel` samples (10 ms).
 * The page draws from these and never decodes the audio itself.
 */

import { clock } from "./segments";

export interface Peaks {
  sampleRate: number;
  samplesPerPixel: number;
  /** Number of buckets. */
  length: number;
  /** min, max, min, max, … in [-128, 127]. */
  data: Int8Array;
}

const HEADER = 20;

/** The peaks in a `.dat` file, or an error naming what is wrong with it. */
export function parsePeaks(buf: ArrayBuffer): Peaks {
  if (buf.byteLength < HEADER) throw new Error(`The waveform file is too short (${buf.byteLength} bytes)`);
  const v = new DataView(buf);
  const version = v.getInt32(0, true);
  const flags = v.getUint32(4, true);
  if (version !== 1) throw new Error(`The waveform file is version ${version}, not 1`);
  if ((flags & 1) !== 1) throw new Error("The waveform file holds 16-bit values, not 8-bit");
  const sampleRate = v.getInt32(8, true);
  const samplesPerPixel = v.getInt32(12, true);
  const length = v.getUint32(16, true);
  if (sampleRate <= 0 || samplesPerPixel <= 0) throw new Error("The waveform file's header is not usable");
  if (buf.byteLength < HEADER + 2 * length) throw new Error("The waveform file is cut short");
  return { sampleRate, samplesPerPixel, length, data: new Int8Array(buf, HEADER, 2 * length) };
}

/** Seconds one bucket covers. */
export function bucketSeconds(p: Peaks): number {
  return p.samplesPerPixel / p.sampleRate;
}

/** The audio's length as the peaks know it (the last bucket may be shorter: within one bucket). */
export function peaksDuration(p: Peaks): number {
  return p.length * bucketSeconds(p);
}

/**
 * Draw the waveform between `t0` and `t0 + width * spp` seconds on a canvas of `width` x `height`
 * device pixels: each column the min and max of the buckets under it (zoomed in past one bucket
 * per column, a bucket is stretched over several columns).
 */
export function drawPeaks(
  g: CanvasRenderingContext2D, p: Peaks, t0: number, spp: number, width: number, height: number,
): void {
  const per = bucketSeconds(p);
  const mid = height / 2;
  const scale = mid / 128;
  const d = p.data;
  g.beginPath();
  for (let x = 0; x < width; x++) {
    const a = Math.floor((t0 + x * spp) / per);
    const b = Math.max(a + 1, Math.floor((t0 + (x + 1) * spp) / per));
    if (a >= p.length) break;
    if (b <= 0) continue;
    let lo = 127;
    let hi = -128;
    for (let i = Math.max(0, a); i < Math.min(b, p.length); i++) {
      const mn = d[2 * i]!;
      const mx = d[2 * i + 1]!;
      if (mn < lo) lo = mn;
      if (mx > hi) hi = mx;
    }
    // At least one device pixel tall, so silence still shows as a line.
    const top = mid - hi * scale;
    const bottom = Math.max(top + 1, mid - lo * scale);
    g.rect(x, top, 1, bottom - top);
  }
  g.fill();
}

const STEPS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600];

/** Time marks along the top: the finest step that leaves 80 CSS pixels between marks. */
export function drawTicks(g: CanvasRenderingContext2D, t0: number, sppDevice: number, w: number, h: number, dpr: number): void {
  const step = STEPS.find((s) => s / (sppDevice * dpr) >= 80) ?? 3600;
  g.fillStyle = "#c8cdd4";
  g.fillRect(0, h / 2, w, 1);
  g.fillStyle = "#6a737d";
  g.font = `${10 * dpr}px sans-serif`;
  const first = Math.ceil(t0 / step) * step;
  for (let t = first; (t - t0) / sppDevice < w; t += step) {
    const x = Math.round((t - t0) / sppDevice);
    g.fillRect(x, 0, 1, 6 * dpr);
    g.fillText(step < 1 ? t.toFixed(step < 0.1 ? 2 : 1) : clock(t).replace(/\.0$/, ""), x + 3 * dpr, 10 * dpr);
  }
}
