/**
 * Segments on an audio field's timeline (`audio_segments`, docs/audio.md "Segments"): the
 * waveform in the audio field's place (audio/Waveform.tsx), the label, the segments and the
 * selected one's transcript and attributes under the item (audio/Panel.tsx). A label key picks
 * the label for new segments and gives it to the selected one.
 */

import { Panel } from "../audio/Panel";
import { nameOf, place, segmentsOf, segmentsProblem, selectedIndex, type AudioUi } from "../audio/segments";
import { Waveform } from "../audio/Waveform";
import { labelForKey } from "../canvas/shape";
import type { AudioSegmentsQuestion } from "../types";
import type { KeyResult, Kind, QuestionUi } from "./kind";

function onKey(q: AudioSegmentsQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi): KeyResult | null {
  const picked = labelForKey(q.labels, key, active);
  if (picked === null) return null;
  const au: AudioUi = ui.audio ?? {};
  const segs = segmentsOf(value);
  const i = active ? selectedIndex(au, segs) : null;
  const label = q.labels[picked]!.value;
  if (i === null) return { ui: { ...ui, audio: { ...au, label: picked, notice: `New segments: ${nameOf(q, label)}.` } } };
  const r = place(q, segs, au, { ...segs[i]!, label }, i, `Segment ${i + 1} is now ${nameOf(q, label)}.`);
  if (typeof r === "string") return { ui: { ...ui, audio: { ...au, notice: r } } };
  return { value: r.value, ui: { ...ui, audio: { ...r.ui, label: picked } } };
}

export const audioSegments: Kind<AudioSegmentsQuestion> = {
  View: Panel,
  Target: Waveform,
  onKey,
  problem: segmentsProblem,
  given: (value) => Array.isArray(value),
  empty: () => [],
};
