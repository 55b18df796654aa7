/**
 * Events on a video field's timeline (`video_segments`, docs/video.md "Events"): `[` and `]` at
 * the frame on screen (video/Events.tsx). The player is the tracks question's when the schema
 * has one on the same video, else this question's own.
 */

import type { VideoSegmentsQuestion } from "../types";
import { EventsPanel, EventsStage, eventsKey, eventsProblem } from "../video/Events";
import type { Kind } from "./kind";

export const videoSegments: Kind<VideoSegmentsQuestion> = {
  View: EventsPanel,
  Target: EventsStage,
  onKey: eventsKey,
  problem: eventsProblem,
  given: (value) => Array.isArray(value),
  empty: () => [],
};
