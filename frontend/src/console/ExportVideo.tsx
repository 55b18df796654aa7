/**
 * The export menu's video datasets (docs/video.md, "Formats"): one `video_tracks` question as MOT
 * Challenge ground truth, CVAT for video XML, a YouTube-VIS-like JSON or per-frame JPEGs with YOLO
 * labels, in a zip with the videos (or `references.csv` instead). Only what the server would write
 * is offered (`services/exporting/video/plan.py`): answers named by annotator only in CVAT and the
 * JSON; MOT and YOLO only when every label fits on one line of their label list.
 */

import type { Project, SpanLabel, VideoTracksQuestion } from "../types";
import { type DatasetFormat, MediaDatasets, sources } from "./MediaDatasets";

const VIDEO_FORMATS: DatasetFormat[] = [
  {
    value: "mot", name: "MOT Challenge",
    about: "per video a folder with gt/gt.txt (every frame of every track), labels.txt, keyframes.txt and seqinfo.ini",
  },
  { value: "cvat", name: "CVAT for video", about: "one CVAT 1.1 .xml per video, beside it: tracks with keyframe, outside and occluded" },
  { value: "vis", name: "YouTube-VIS JSON", about: "annotations/instances.json (a box or null per frame of each track) and videos/" },
  { value: "yolo-frames", name: "YOLO per frame", about: "data.yaml, each frame with boxes as images/<video>/<frame>.jpg and its labels/*.txt" },
];

const SOURCES = sources("each track named by who drew it");

function labelValue(l: SpanLabel | string): string {
  return typeof l === "string" ? l : l.value;
}

/** Why a format is not offered for this question and source, or null when it is. */
function unfit(f: DatasetFormat, q: VideoTracksQuestion, source: string): string | null {
  const listed = f.value === "mot" || f.value === "yolo-frames";
  if (source === "answers" && listed) return `${f.name} has no place for who drew a track`;
  if (listed && q.labels.some((l) => !labelValue(l) || /[\r\n]/.test(labelValue(l)))) {
    return `${f.name} cannot hold an empty label or one with a line break`;
  }
  return null;
}

export function VideoDatasets({ project }: { project: Project }) {
  const questions = project.label_schema.questions.filter(
    (q): q is VideoTracksQuestion => q.type === "video_tracks");
  if (questions.length === 0) return null;
  return (
    <MediaDatasets project={project} questions={questions} media="video" questionLabel="Tracks question"
      sourceLabel="Tracks from" sources={SOURCES} formats={VIDEO_FORMATS} unfit={unfit} />
  );
}
