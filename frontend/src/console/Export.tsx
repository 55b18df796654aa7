/**
 * The console's export menu: every item as JSONL, CSV or Parquet; and, on projects with shape
 * questions, one shape question as an image dataset (COCO, YOLO, Pascal VOC in a zip; docs/images.md,
 * "Formats"), offering only the formats that can hold that question's shapes, as the server decides
 * (`services/exporting/images/pictures.py`: the same table); on projects with audio segments, NeMo
 * manifests, SRT, WebVTT and RTTM (ExportAudio.tsx); and, on projects with language-model feedback
 * questions, training data (DPO, SFT, ratings, a Hugging Face dataset: ExportTraining.tsx).
 */

import { useState } from "preact/hooks";
import { isShapeQuestion } from "../canvas/words";
import { title } from "../questions/kind";
import type { Project, ShapeQuestion } from "../types";
import { AudioDatasets } from "./ExportAudio";
import { TrainingExports } from "./ExportTraining";

interface Format {
  value: string;
  name: string;
  about: string;
}

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

const SOURCES = [
  { value: "consensus", label: "the consensus" },
  { value: "gold", label: "the gold answers" },
  { value: "answers", label: "every annotator’s latest answer (each object named by who drew it)" },
];

/** Why a format is not offered for this question and source, or null when it is. */
function unfit(d: Dataset, q: ShapeQuestion, source: string): string | null {
  if (!d.types.includes(q.type)) return `${d.name} cannot hold ${q.type} shapes`;
  if (source === "answers" && d.value === "yolo") return "YOLO has no place for who drew an object";
  return null;
}

function ImageDatasets({ project, shapes }: { project: Project; shapes: ShapeQuestion[] }) {
  const [name, setName] = useState(shapes[0]!.name);
  const [source, setSource] = useState("consensus");
  const [refs, setRefs] = useState(false);
  const q = shapes.find((s) => s.name === name) ?? shapes[0]!;
  const offered = DATASETS.filter((d) => unfit(d, q, source) === null);
  const left = DATASETS.map((d) => unfit(d, q, source)).filter((why) => why !== null);
  const href = (d: Dataset) => `/api/projects/${project.id}/export?${new URLSearchParams({
    format: d.value, question: q.name, source, images: refs ? "refs" : "include",
  })}`;
  return (
    <div class="image-export" aria-label="image datasets" role="group">
      <h3>Image datasets (a zip)</h3>
      <div class="filters">
        {shapes.length > 1 && (
          <label>
            Shape question
            <select value={q.name} onChange={(e) => setName(e.currentTarget.value)}>
              {shapes.map((s) => <option value={s.name}>{`${title(s)} (${s.type})`}</option>)}
            </select>
          </label>
        )}
        <label>
          Objects from
          <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            {SOURCES.map((s) => <option value={s.value}>{s.label}</option>)}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={refs} onChange={(e) => setRefs(e.currentTarget.checked)} />
          Leave the image files out (references.csv names each one)
        </label>
      </div>
      <ul class="formats">
        {offered.map((d) => (
          <li data-format={d.value}>
            <a class="button" href={href(d)} download>{`Download ${d.name}`}</a>{" "}
            <span class="about">{d.about}</span>
          </li>
        ))}
      </ul>
      {left.length > 0 && <p class="muted">{`Not offered: ${left.join("; ")}.`}</p>}
    </div>
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
      <TrainingExports key={project.id} project={project} />
    </>
  );
}
