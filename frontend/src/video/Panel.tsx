/**
 * A `video_tracks` question's own part of the form, under the item: the class for new tracks
 * (keys as for span labels), the tracks (each: class, keyframes, where it is now), and for the
 * selected one its attributes and the tools at the frame on screen (outside, occluded, delete
 * the keyframe, split, merge another track into it, the tracker and its proposals), the
 * per-frame mode's toggle and the per-frame shapes (each with its frame: a click jumps there). Labels,
 * ids and attributes are rendered as text only.
 */

import { useRef } from "preact/hooks";
import { labelKey, labelName } from "../canvas/shape";
import { ObjectAttribute } from "../questions/ObjectAttribute";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import type { VideoTracksQuestion } from "../types";
import * as act from "./actions";
import { boxAt, type Track } from "./interpolate";
import { clockFor, useClock } from "./player";
import { colourOfLabel } from "./Stage";
import { labelsOf, num, replaceTrack, shapeOn, trackIndex, tracksOf, type VideoUi } from "./tracks";

export function Panel(props: ViewProps<VideoTracksQuestion>) {
  const { q } = props;
  const reference = typeof props.data[q.target] === "string" ? (props.data[q.target] as string) : "";
  const clock = clockFor(reference);
  const s = useClock(clock);
  const value = tracksOf(props.value);
  const ui: VideoUi = props.ui.video ?? {};
  const setUi = (u: VideoUi) => props.setUi({ ...props.ui, video: u });
  const frame = s.frame >= 0 ? s.frame : s.target;
  const count = s.frameCount || null;
  const a: act.TrackActions = {
    q, value, ui, setUi, clock, frameCount: count, itemId: props.itemId, set: (v) => props.set(v),
  };
  // The tracker answers later: it reads the answer and state of that moment, not of the click.
  const now = useRef(a);
  now.current = a;
  const labels = labelsOf(q);
  const current = Math.min(ui.label ?? 0, labels.length - 1);
  const sel = trackIndex(value, ui.selected);
  const others = value.tracks.filter((t) => t.id !== ui.selected);
  const shapeHere = shapeOn(value, ui, frame);
  const tool = (label: string, key: string, run: () => void, disabled = false) => (
    <button type="button" disabled={disabled} onClick={() => (props.activate(), run())} aria-keyshortcuts={key}>
      {label} <kbd>{key}</kbd>
    </button>
  );
  const setAttribute = (i: number, name: string, v: string | undefined) => {
    const t = value.tracks[i]!;
    const attributes = { ...t.attributes };
    if (v === undefined) delete attributes[name];
    else attributes[name] = v;
    const next: Track = { ...t, attributes };
    if (!Object.keys(attributes).length) delete next.attributes;
    props.set(replaceTrack(value, i, next));
  };

  return (
    <div class="video-tracks">
      <div class="span-labels" role="radiogroup" aria-label={`${title(q)}: class`}>
        {labels.map((l, i) => (
          <button type="button" role="radio" aria-checked={i === current}
            class={`option span-label lab-${i % 8}${i === current ? " on" : ""}`}
            onClick={() => (props.activate(), act.relabel(a, i))}>
            {labelKey(labels, i) && <kbd aria-hidden="true">{labelKey(labels, i)}</kbd>}
            <span>{labelName(l)}</span>
          </button>
        ))}
      </div>
      <label class="video-per-frame">
        <input type="checkbox" checked={!!ui.perFrame} aria-keyshortcuts="F"
          onChange={() => (props.activate(), act.togglePerFrame(a))} />
        {" "}Per-frame shapes: a drawn box is on this frame only <kbd>F</kbd>
      </label>
      <p class="muted shape-hint">
        Drag on the video to start a track here; move or resize a box on another frame to add a keyframe
        (keyframes solid, interpolated boxes dashed). , and . step a frame (Shift: 10), Space plays.
      </p>
      <ol class="track-list" aria-label={`${title(q)}: tracks`}>
        {value.tracks.map((t, i) => {
          const b = boxAt(t, frame, count);
          return (
            <li class={i === sel ? "sel" : undefined} data-track={t.id}>
              <button type="button" class="link obj-pick" aria-pressed={i === sel}
                onClick={() => (props.activate(), setUi({ ...ui, selected: t.id, shape: null, notice: "" }))}>
                <span class={`chip ${colourOfLabel(q, t.label)}`}>{t.label}</span>{" "}
                {`${t.id}: ${t.keyframes.length} keyframe${t.keyframes.length === 1 ? "" : "s"}, `}
                {b ? `${b.keyframe ? "keyframe" : "interpolated"} ${b.box.map(num).join(", ")}${b.occluded ? " (occluded)" : ""}`
                  : "not in this frame"}
              </button>
              {i === sel && !!q.attributes?.length && (
                <div class="shape-attrs">
                  {q.attributes.map((at) => (
                    <ObjectAttribute a={at} now={t.attributes?.[at.name]} onChange={(v) => setAttribute(i, at.name, v)} />
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {!value.tracks.length && !value.shapes.length && <p class="muted">No tracks: submitting says there is nothing here.</p>}
      {!!value.shapes.length && (
        <ol class="shape-list" aria-label={`${title(q)}: per-frame shapes`}>
          {value.shapes.map((sh, k) => (
            <li class={k === ui.shape ? "sel" : undefined} data-shape={k} data-frame={sh.frame}>
              <button type="button" class="link obj-pick" aria-pressed={k === ui.shape}
                onClick={() => (props.activate(), act.selectShape(a, k), clock.seek(sh.frame))}>
                <span class={`chip ${colourOfLabel(q, sh.label)}`}>{sh.label}</span>{" "}
                {`frame ${sh.frame}: ${sh.box.map(num).join(", ")}`}
              </button>
              {k === shapeHere && tool("Delete shape", "Delete", () => act.removeShape(a))}
            </li>
          ))}
        </ol>
      )}
      <div class="video-tools" role="group" aria-label={`${title(q)}: tools at frame ${frame}`}>
        {tool("Outside", "O", () => act.outside(a), sel === null)}
        {tool("Occluded", "I", () => act.occluded(a), sel === null)}
        {tool("Delete keyframe", "Delete", () => act.removeKeyframe(a), sel === null)}
        {tool("Split here", "/", () => act.splitHere(a), sel === null)}
        {tool("Remove track", "Shift+Delete", () => act.removeTrack(a), sel === null)}
        <label class="video-merge">
          Merge into this track:{" "}
          <select disabled={sel === null || !others.length} value=""
            onChange={(e) => act.mergeInto(a, (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">(choose a track)</option>
            {others.map((t) => <option value={t.id}>{`${t.id} (${t.label})`}</option>)}
          </select>
        </label>
      </div>
      <div class="video-tools tracker" role="group" aria-label={`${title(q)}: tracker`}>
        {ui.tracking
          ? tool("Stop the tracker", "Escape", () => act.stopTracking(a))
          : tool("Track the next frames", "T", () => act.track(a, q.target, () => now.current), sel === null)}
        {ui.proposal && (
          <>
            <span class="muted">{`${ui.proposal.boxes.length} proposed frames (${ui.proposal.boxes[0]?.frame}–${ui.proposal.boxes.at(-1)?.frame})`}</span>
            {tool("Accept all", "Y", () => act.acceptTracked(a, true))}
            {tool("Accept up to this frame", "Shift+Y", () => act.acceptTracked(a, false))}
            {tool("Drop", "Escape", () => act.stopTracking(a))}
          </>
        )}
      </div>
    </div>
  );
}
