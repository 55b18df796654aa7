/**
 * A `video_segments` question (docs/video.md, "Events"): events from frame `start` to frame
 * `end` (inclusive) with a class. `[` marks a start at the frame on screen, `]` ends the event
 * there (the two in either order make start <= end). The player is the one of the video's tracks
 * question when the schema has one (the same frame clock, player.ts); alone, this question shows
 * its own player (`EventsStage`).
 */

import { useEffect, useRef } from "preact/hooks";
import { labelForKey, labelKey, labelName } from "../canvas/shape";
import type { KeyResult, QuestionUi, ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import type { VideoSegmentsQuestion } from "../types";
import { Controls } from "./Controls";
import { notOurs, playerKey } from "./keys";
import { clockFor, useClock, type FrameClock } from "./player";
import { useVideoSource } from "./source";
import { colourOfLabel } from "./Stage";
import { Timeline, type TimelineEvent } from "./Timeline";
import { labelsOf, type VideoUi } from "./tracks";
import "./video.css";

export function eventsOf(value: unknown): TimelineEvent[] {
  return Array.isArray(value) ? (value as TimelineEvent[]) : [];
}

export function eventsProblem(_q: VideoSegmentsQuestion, value: unknown): string | null {
  for (const [i, e] of eventsOf(value).entries()) {
    if (!(Number.isInteger(e.start) && Number.isInteger(e.end) && 0 <= e.start && e.start <= e.end)) {
      return `event ${i + 1}: its start must be a frame at or before its end`;
    }
  }
  return null;
}

function referenceOf(q: VideoSegmentsQuestion, data: Record<string, unknown>): string {
  return typeof data[q.target] === "string" ? (data[q.target] as string) : "";
}

/** `[` / `]` at the frame on screen: the new value and state, or a notice. */
export function markKey(q: VideoSegmentsQuestion, value: unknown, ui: VideoUi, key: string, frame: number):
  { value?: TimelineEvent[]; ui: VideoUi } | null {
  if (key !== "[" && key !== "]") return null;
  const events = eventsOf(value);
  const mark = ui.mark ?? null;
  // The other key than the one that made the mark ends the event; the same key marks again.
  if (mark === null || (key === "]") === !!ui.markEnd) {
    const end = key === "]";
    const notice = end ? `End marked at frame ${frame}: [ at the start frame makes the event.`
      : `Start marked at frame ${frame}: ] at the end frame makes the event.`;
    return { ui: { ...ui, mark: frame, markEnd: end, notice } };
  }
  const labels = labelsOf(q);
  const label = labels[Math.min(ui.label ?? 0, labels.length - 1)]!.value;
  const ev = { label, start: Math.min(mark, frame), end: Math.max(mark, frame) };
  return { value: [...events, ev], ui: { ...ui, mark: null, markEnd: false, notice: `Event ${label}: frames ${ev.start}–${ev.end}.` } };
}

/** While the question is active: [ and ], and the player's keys (the player may be another question's). */
function useEventKeys(props: ViewProps<VideoSegmentsQuestion>, clock: FrameClock) {
  const ref = useRef(props);
  ref.current = props;
  useEffect(() => {
    if (!props.active) return;
    const down = (e: KeyboardEvent) => {
      if (notOurs(e) || e.ctrlKey) return;
      const p = ref.current;
      const ui = p.ui.video ?? {};
      const s = clock.state;
      const r = markKey(p.q, p.value, ui, e.key, s.frame >= 0 ? s.frame : s.target);
      const used = r !== null || playerKey(clock, e);
      if (r) {
        if (r.value) p.set(r.value);
        p.setUi({ ...p.ui, video: r.ui });
      }
      if (used) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    addEventListener("keydown", down, true);
    return () => removeEventListener("keydown", down, true);
  }, [props.active, clock]);
}

/** The player of an events question that has the video to itself. */
export function EventsStage(props: ViewProps<VideoSegmentsQuestion>) {
  const reference = referenceOf(props.q, props.data);
  const source = useVideoSource(reference);
  const clock = clockFor(reference);
  const s = useClock(clock);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => clock.attach(video.current, source.times), [video.current, source.times, source.src]);
  if (source.error) return <p class="media-ref notice" role="status">{source.error}</p>;
  return (
    <div class="video-stage" data-question={props.q.name} data-ready={String(source.ready && s.frame >= 0)}>
      <div class="video-view" tabIndex={0} onFocus={props.activate}>
        <div class="video-box" style={{ aspectRatio: source.meta ? `${source.meta.width} / ${source.meta.height}` : "16 / 9" }}>
          {source.src && <video ref={video} class="video-el" src={source.src} preload="auto" muted playsInline />}
        </div>
      </div>
      <Controls clock={clock} s={s} variant={source.variant} />
    </div>
  );
}

export function EventsPanel(props: ViewProps<VideoSegmentsQuestion>) {
  const { q } = props;
  const clock = clockFor(referenceOf(q, props.data));
  const s = useClock(clock);
  useEventKeys(props, clock);
  const events = eventsOf(props.value);
  const ui: VideoUi = props.ui.video ?? {};
  const setUi = (u: VideoUi) => props.setUi({ ...props.ui, video: u });
  const labels = labelsOf(q);
  const current = Math.min(ui.label ?? 0, labels.length - 1);
  const frame = s.frame >= 0 ? s.frame : s.target;
  const press = (key: string) => {
    props.activate();
    const r = markKey(q, props.value, ui, key, frame);
    if (r?.value) props.set(r.value);
    if (r) setUi(r.ui);
  };
  return (
    <div class="video-events">
      <div class="span-labels" role="radiogroup" aria-label={`${title(q)}: class`}>
        {labels.map((l, i) => (
          <button type="button" role="radio" aria-checked={i === current}
            class={`option span-label lab-${i % 8}${i === current ? " on" : ""}`}
            onClick={() => (props.activate(), setUi({ ...ui, label: i, notice: "" }))}>
            {labelKey(labels, i) && <kbd aria-hidden="true">{labelKey(labels, i)}</kbd>}
            <span>{labelName(l)}</span>
          </button>
        ))}
      </div>
      <div class="video-tools" role="group" aria-label={`${title(q)}: mark`}>
        <button type="button" onClick={() => press("[")} aria-keyshortcuts="[">Start here <kbd>[</kbd></button>
        <button type="button" onClick={() => press("]")} aria-keyshortcuts="]">End here <kbd>]</kbd></button>
        {ui.mark !== null && ui.mark !== undefined && <span class="muted">{`marked at frame ${ui.mark}`}</span>}
      </div>
      {s.frameCount > 0 && (
        <Timeline clock={clock} frame={frame} count={s.frameCount} tracks={[]} selected={null} select={() => undefined}
          events={events} colour={(l) => colourOfLabel(q as never, l)} />
      )}
      <ol class="event-list" aria-label={`${title(q)}: events`}>
        {events.map((ev, i) => (
          <li data-event={i}>
            <button type="button" class="link" onClick={() => (props.activate(), clock.seek(ev.start))}>
              <span class={`chip ${colourOfLabel(q as never, ev.label)}`}>{ev.label}</span>{` frames ${ev.start}–${ev.end}`}
            </button>{" "}
            <button type="button" class="link" aria-label={`remove event ${i + 1}`}
              onClick={() => props.set(events.filter((_, j) => j !== i))}>remove</button>
          </li>
        ))}
      </ol>
      {!events.length && <p class="muted">No events yet.</p>}
      <p class="video-status" role="status" aria-live="polite">{ui.notice}</p>
    </div>
  );
}

/** A class key picks the class for new events. */
export function eventsKey(q: VideoSegmentsQuestion, _value: unknown, key: string, active: boolean, ui: QuestionUi): KeyResult | null {
  const picked = labelForKey(labelsOf(q), key, active);
  if (picked === null) return null;
  return { ui: { ...ui, video: { ...(ui.video ?? {}), label: picked, notice: `New events: ${labelsOf(q)[picked]!.value}.` } } };
}
