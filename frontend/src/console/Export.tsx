/**
 * The console's export menu: every item as JSONL, CSV or Parquet; and, on projects with shape
 * questions, one shape question as an image dataset (COCO, YOLO, Pascal VOC in a zip; docs/images.md,
 * "Formats"), offering only the formats that can hold that question's shapes, as the server decides
 * (`services/exporting/images/pictures.py`: the same table); on projects with audio segments, NeMo
 * manifests, SRT, WebVTT and RTTM (ExportAudio.tsx); on projects with video tracks, MOT, CVAT for
 * video, a YouTube-VIS-like JSON and YOLO per frame (ExportVideo.tsx); and, on projects with
 * language-model feedback questions, training data (DPO, SFT, ratings, a Hugging Face dataset: ExportTraining.tsx).
 */

import { isShapeQuestion } from "../canvas/words";
import { title } from "../questions/kind";
import type { Project, ShapeQuestion } from "../types";
import { AudioDatasets } from "./ExportAudio";
import { TrainingExports } from "./ExportTraining";
import { VideoDatasets } from "./ExportVideo";
import { type DatasetFormat, MediaDatasets, sources } from "./MediaDatasets";

type Format = DatasetFormat;

const TABLES: Format[] = [
  { value: "jsonl", name: "JSONL", about: "one JSON object per item: its data, every answer, gold and the consensus" },
  { value: "csv", name: "CSV", about: "one row per item for spreadsheets, the consensus of each question in a column" },
  { value: "parquet", name: "Parquet", about: "the JSONL’s content in columns, for data frames" },
];

type Dataset = Format & { types: ShapeQuestion["type"][] };

// The shape types each format holds: the server's TYPES (services/exporting/images/pictures.py).
const DATASETS: Dataset[] = [
  {
    value: "coco", name: "COCO", types: ["bbox", "rotated_bbox", "polygon", "polyline", "keypoints", "mask"],
    about: "annotations/instances.json and the images: boxes, polygons, keypoints and RLE masks, as pycocotools reads them",
  },
  {
    value: "yolo", name: "YOLO", types: ["bbox", "polygon", "keypoints"],
    about: "data.yaml, images/ and one labels/*.txt per image (Ultralytics): detect, segment or pose, coordinates 0 to 1",
  },
  {
    value: "voc", name: "Pascal VOC", types: ["bbox"],
    about: "one Annotations/*.xml per image with JPEGImages/: boxes only, pixels numbered from 1",
  },
];

const SOURCES = sources("each object named by who drew it");

/** Why a format is not offered for this question and source, or null when it is. */
function unfit(d: Dataset, q: ShapeQuestion, source: string): string | null {
  if (!d.types.includes(q.type)) return `${d.name} cannot hold ${q.type} shapes`;
  if (source === "answers" && d.value === "yolo") return "YOLO has no place for who drew an object";
  return null;
}

function ImageDatasets({ project, shapes }: { project: Project; shapes: ShapeQuestion[] }) {
  return (
    <MediaDatasets project={project} questions={shapes} media="image" questionLabel="Shape question"
      sourceLabel="Objects from" questionName={(s) => `${title(s)} (${s.type})`} sources={SOURCES}
      formats={DATASETS} unfit={unfit} />
  );
}

export function Export({ project }: { project: Project }) {
  const shapes = project.label_schema.questions.filter(isShapeQuestion);
  return (
    <>
      <ul class="formats">
        {TABLES.map((f) => (
          <li data-format={f.value}>
            <a class="button" href={`/api/projects/${project.id}/export?format=${f.value}`} download>
              {`Download ${f.name}`}
            </a>{" "}
            <span class="about">{f.about}</span>
          </li>
        ))}
      </ul>
      {shapes.length > 0 && <ImageDatasets project={project} shapes={shapes} />}
      <AudioDatasets key={`audio-${project.id}`} project={project} />
      <VideoDatasets key={`video-${project.id}`} project={project} />
      <TrainingExports key={project.id} project={project} />
    </>
  );
}
