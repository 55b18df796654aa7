/**
 * Tracks on a video field (`video_tracks`, docs/video.md "Tracks" and "Workbench"): the player,
 * the drawing on the frame on screen and the timeline in the video field's place
 * (video/Stage.tsx), the class, the tracks and the tools under the item (video/Panel.tsx).
 * A class key picks the class for new tracks and gives it to the selected one.
 */

import type { VideoTracksQuestion } from "../types";
import { labelForKey } from "../canvas/shape";
import { Panel } from "../video/Panel";
import { VideoStage } from "../video/Stage";
import { labelsOf, tracksOf, tracksProblem, type TracksValue } from "../video/tracks";
import type { KeyResult, Kind, QuestionUi } from "./kind";

function onKey(q: VideoTracksQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi): KeyResult | null {
  const labels = labelsOf(q);
  const picked = labelForKey(labels, key, active);
  if (picked === null) return null;
  const v = tracksOf(value);
  const vu = ui.video ?? {};
  const i = active && vu.selected ? v.tracks.findIndex((t) => t.id === vu.selected) : -1;
  const label = labels[picked]!.value;
  const k = active && typeof vu.shape === "number" && v.shapes[vu.shape] ? vu.shape : -1;
  if (k >= 0) {
    const shapes = v.shapes.slice();
    shapes[k] = { ...shapes[k]!, label };
    const notice = `The shape on frame ${shapes[k]!.frame} is now ${label}.`;
    return { value: { ...v, shapes }, ui: { ...ui, video: { ...vu, label: picked, notice } } };
  }
  if (i < 0) return { ui: { ...ui, video: { ...vu, label: picked, notice: `New tracks: ${label}.` } } };
  const tracks = v.tracks.slice();
  tracks[i] = { ...tracks[i]!, label };
  const next: TracksValue = { ...v, tracks };
  return { value: next, ui: { ...ui, video: { ...vu, label: picked, notice: `Track ${tracks[i]!.id} is now ${label}.` } } };
}

export const videoTracks: Kind<VideoTracksQuestion> = {
  View: Panel,
  Target: VideoStage,
  holdsTarget: true,
  onKey,
  problem: tracksProblem,
  given: (value) => !!value && typeof value === "object" && Array.isArray((value as TracksValue).tracks),
  empty: (): TracksValue => ({ tracks: [], shapes: [] }),
};
