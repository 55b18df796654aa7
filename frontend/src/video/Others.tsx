/**
 * Other values of a `video_tracks` question drawn on the frame on screen, under the answer being
 * made (questions/kind.ts: OtherValue): in the review queue each annotator's tracks and per-frame
 * shapes (review/Answers.tsx: reviewLayers), the gold answer for managers, and the model's
 * pre-label (its stored answer in review; its suggestion while labelling). One colour per person,
 * as canvas/others.tsx does for images and audio/Lanes.tsx for audio; a track's box at this frame
 * is `interpolate.ts`'s `boxAt`, the same rule as the answer's own (keyframe solid, interpolated
 * dashed). For looking only: the pointer goes through them. Names and labels are untrusted: text
 * nodes and `<title>`, never markup.
 */

import { layerColour } from "../canvas/others";
import type { OtherValue } from "../questions/kind";
import { boxAt } from "./interpolate";
import { tracksOf } from "./tracks";

const fmt = (b: number[]) => b.map((x) => String(x)).join(",");

/** The colour class of a layer: the model's own, gold's own, else one per person. */
function colourOf(o: OtherValue, i: number): string {
  return o.kind === "model" ? "who-model" : layerColour(o, i);
}

/** Every shown layer's boxes at `frame`, under the answer's own. */
export function OtherTracks({ others, frame, count, off }: {
  others: OtherValue[] | undefined; frame: number; count: number | null; off: readonly string[] | undefined;
}) {
  if (!others?.length) return null;
  return (
    <g class="others">
      {others.map((layer, i) => {
        if (off?.includes(layer.id)) return null;
        const v = tracksOf(layer.value);
        return (
          <g class={`other ${colourOf(layer, i)}`} data-layer={layer.id}>
            {v.tracks.map((t) => {
              // A malformed track from someone else's value is left out, not allowed to break the page.
              const b = Array.isArray(t?.keyframes) ? boxAt(t, frame, count) : null;
              if (!b || b.box.length !== 4) return null;
              const [x1, y1, x2, y2] = b.box as [number, number, number, number];
              return (
                <g class={`oth ${b.keyframe ? "kf" : "interp"}`} data-track={String(t.id)} data-box={fmt(b.box)}
                  data-keyframe={String(b.keyframe)}>
                  <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} />
                  <title>{`${layer.who}: ${String(t.label)} (${String(t.id)})`}</title>
                </g>
              );
            })}
            {v.shapes.map((sh, k) => {
              if (sh?.frame !== frame || !Array.isArray(sh.box) || sh.box.length !== 4) return null;
              const [x1, y1, x2, y2] = sh.box as [number, number, number, number];
              return (
                <g class="oth kf" data-shape={k} data-box={fmt(sh.box)}>
                  <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} />
                  <title>{`${layer.who}: ${String(sh.label)}, frame ${sh.frame}`}</title>
                </g>
              );
            })}
          </g>
        );
      })}
    </g>
  );
}

/** Under the player: who is drawn in which colour (names as text), with a toggle each. */
export function OthersLegend({ others, off, setOff }: {
  others: OtherValue[] | undefined; off: readonly string[] | undefined; setOff: (id: string, hidden: boolean) => void;
}) {
  if (!others?.length) return null;
  return (
    <ul class="layer-list video-layers" aria-label="tracks of others drawn on the video">
      {others.map((o, i) => {
        const v = tracksOf(o.value);
        return (
          <li data-layer={o.id}>
            <label>
              <input type="checkbox" checked={!off?.includes(o.id)} aria-label={`show the tracks of ${o.who}`}
                onChange={(e) => setOff(o.id, !(e.currentTarget as HTMLInputElement).checked)} />{" "}
              <span class={`swatch ${colourOf(o, i)}`} aria-hidden="true" />{" "}
              <span class="who">{o.who}</span>
              <span class="muted">{` ${v.tracks.length} tracks, ${v.shapes.length} per-frame shapes`}</span>
            </label>
          </li>
        );
      })}
    </ul>
  );
}
