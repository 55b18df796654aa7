/**
 * Other people's segments under the waveform, for the review queue (review/Answers.tsx:
 * reviewLayers): one lane per annotator (and, for managers, the gold answer), named as text, each
 * of their segments at its times with its label and transcript, so the reviewer compares who cut
 * what and who heard which words. For looking only: a click in a lane moves the playhead there.
 * Their text is untrusted: text nodes, and a `title` attribute, never markup.
 */

import { layerColour } from "../canvas/others";
import type { OtherValue } from "../questions/kind";
import type { AudioSegmentsQuestion } from "../types";
import { colourOf, nameOf, segmentsOf, span } from "./segments";

/** One lane: the name on top, the segments under it. */
export const ANSWER_LANE_H = 48;

/** The values drawn in lanes: everyone's but the model's (the model's suggestion has a lane of its own). */
export function answerLanes(others: OtherValue[] | undefined): OtherValue[] {
  return (others ?? []).filter((o) => o.kind !== "model");
}

export function AnswerLanes({ q, layers, top, x }: {
  q: AudioSegmentsQuestion;
  layers: OtherValue[];
  /** Where the first lane starts, in pixels from the top of the track. */
  top: number;
  /** Seconds to pixels on the track. */
  x: (t: number) => number;
}) {
  return (
    <>
      {layers.map((o, i) => {
        const segs = segmentsOf(o.value);
        return (
          <div class={`wave-lane ${layerColour(o, i)}`} data-layer={o.id} role="group"
            aria-label={`segments of ${o.who}`} style={{ top: `${top + i * ANSWER_LANE_H}px`, height: `${ANSWER_LANE_H}px` }}>
            <span class="wave-lane-who">
              <span class="swatch" aria-hidden="true" /> <span class="who">{o.who}</span>
              <span class="muted">{` · ${segs.length} segment${segs.length === 1 ? "" : "s"}`}</span>
            </span>
            {segs.map((s, k) => (
              <div class={`wave-other ${colourOf(q, s.label)}`} data-oseg={k}
                style={{ left: `${x(s.start)}px`, width: `${Math.max(1, x(s.end) - x(s.start))}px` }}
                title={`${o.who}: ${nameOf(q, s.label)} ${span(s)}${s.text ? ` “${s.text}”` : ""}`}>
                <span class="wave-seg-label">{nameOf(q, s.label)}</span>
                {q.transcript && s.text ? <span class="wave-seg-text">{s.text}</span> : null}
              </div>
            ))}
          </div>
        );
      })}
    </>
  );
}
