/** Question types by name; a new type is one module here and one line below. */

import type { Question } from "../types";
import { audioSegments } from "./audio_segments";
import { bbox, rotatedBbox } from "./boxes";
import { choice } from "./choice";
import { criteria } from "./criteria";
import { freeText } from "./freeText";
import { keypoints } from "./keypoints";
import type { Kind } from "./kind";
import { mask } from "./mask";
import { multiChoice } from "./multiChoice";
import { polygon, polyline } from "./poly";
import { preference } from "./preference";
import { ranking } from "./ranking";
import { rating } from "./rating";
import { responseSpans } from "./response_spans";
import { rewrite } from "./rewrite";
import { spans } from "./spans";
import { videoSegments } from "./video_segments";
import { videoTracks } from "./video_tracks";

const KINDS: Record<string, Kind<never>> = {
  choice,
  multi_choice: multiChoice,
  rating,
  text: freeText,
  spans,
  bbox,
  rotated_bbox: rotatedBbox,
  polygon,
  polyline,
  keypoints,
  mask,
  audio_segments: audioSegments,
  // Video (docs/video.md).
  video_tracks: videoTracks,
  video_segments: videoSegments,
  // Language-model feedback (docs/feedback.md).
  preference,
  ranking,
  criteria,
  rewrite,
  response_spans: responseSpans,
} as unknown as Record<string, Kind<never>>;

export function kindOf(q: Question): Kind<Question> | null {
  return (KINDS[q.type] as unknown as Kind<Question> | undefined) ?? null;
}

/** What a fresh answer holds for a question before the annotator does anything (undefined: nothing). */
export function emptyValue(q: Question): unknown {
  return kindOf(q)?.empty?.();
}
