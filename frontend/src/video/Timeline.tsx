/**
 * The timeline under the player: the playhead, a row per track (where it shows a box, its
 * keyframes as marks: a click jumps there), a row of ticks for the per-frame shapes (a click
 * jumps to the shape's frame and selects it) and a row per event. A click on a row's background
 * jumps to that frame. Labels are rendered as text.
 */

import type { FrameClock } from "./player";
import type { Keyframe, Track } from "./interpolate";
import type { FrameShape } from "./tracks";

export interface TimelineEvent {
  label: string;
  start: number;
  end: number;
}

/** Where a track shows a box: [start, end] frame runs, from its keyframes (outside ends a run). */
export function runs(t: Track, count: number): [number, number][] {
  const out: [number, number][] = [];
  let start: number | null = null;
  for (const k of t.keyframes) {
    if (!k.outside && start === null) start = k.frame;
    if (k.outside && start !== null) {
      out.push([start, k.frame - 1]);
      start = null;
    }
  }
  if (start !== null) out.push([start, count - 1]);
  return out;
}

const pct = (f: number, count: number) => `${(100 * f) / Math.max(1, count)}%`;

function jumpFromRow(clock: FrameClock, count: number, e: MouseEvent): void {
  const el = e.currentTarget as HTMLElement;
  const r = el.getBoundingClientRect();
  clock.seek(Math.floor(((e.clientX - r.left) / r.width) * count));
}

export function Timeline(props: {
  clock: FrameClock; frame: number; count: number; tracks: Track[]; selected: string | null | undefined;
  select: (id: string) => void; events?: TimelineEvent[]; colour: (label: string) => string;
  shapes?: FrameShape[]; selectShape?: (k: number) => void;
}) {
  const { clock, frame, count, tracks } = props;
  const mark = (t: Track, k: Keyframe) => (
    <button type="button" class={`kf${k.outside ? " out" : ""}${k.occluded ? " occ" : ""}`} style={{ left: pct(k.frame, count) }}
      data-frame={k.frame} title={`frame ${k.frame}${k.outside ? " (outside)" : ""}`}
      aria-label={`track ${t.id}: keyframe at frame ${k.frame}`}
      onClick={(e) => (e.stopPropagation(), props.select(t.id), clock.seek(k.frame))} />
  );
  return (
    <div class="video-timeline" aria-label="timeline">
      <div class="tl-row tl-ruler" onClick={(e) => jumpFromRow(clock, count, e)}>
        <span class="tl-playhead" style={{ left: pct(frame, count) }} />
      </div>
      {tracks.map((t) => (
        <div class={`tl-row${t.id === props.selected ? " sel" : ""}`} data-track={t.id} onClick={(e) => jumpFromRow(clock, count, e)}>
          <span class="tl-name">{t.id}</span>
          {runs(t, count).map(([a, b]) => (
            <span class={`tl-run ${props.colour(t.label)}`} style={{ left: pct(a, count), width: pct(b - a + 1, count) }} />
          ))}
          {t.keyframes.map((k) => mark(t, k))}
          <span class="tl-playhead" style={{ left: pct(frame, count) }} />
        </div>
      ))}
      {!!props.shapes?.length && (
        <div class="tl-row tl-shapes" onClick={(e) => jumpFromRow(clock, count, e)}>
          <span class="tl-name">shapes</span>
          {props.shapes.map((sh, k) => (
            <button type="button" class={`tick ${props.colour(sh.label)}`} style={{ left: pct(sh.frame, count) }}
              data-frame={sh.frame} data-shape={k} title={`${sh.label}, frame ${sh.frame}`}
              aria-label={`${sh.label} shape at frame ${sh.frame}`}
              onClick={(e) => (e.stopPropagation(), props.selectShape?.(k), clock.seek(sh.frame))} />
          ))}
          <span class="tl-playhead" style={{ left: pct(frame, count) }} />
        </div>
      )}
      {props.events?.map((ev, i) => (
        <div class="tl-row tl-events" data-event={i} onClick={(e) => jumpFromRow(clock, count, e)}>
          <span class="tl-name">{ev.label}</span>
          <span class={`tl-run ${props.colour(ev.label)}`} style={{ left: pct(ev.start, count), width: pct(ev.end - ev.start + 1, count) }} />
          <span class="tl-playhead" style={{ left: pct(frame, count) }} />
        </div>
      ))}
    </div>
  );
}
