/**
 * One question of a media project exported as a dataset in a zip (images, audio, video): the
 * question, where its answers come from, whether the media files go in, and the formats that can
 * hold them, each with what it writes; the formats left out are named with the reason. The server
 * decides the same way (each kind's plan in `services/exporting/<kind>/`).
 */

import { useState } from "preact/hooks";
import { title } from "../questions/kind";
import type { Project, Question } from "../types";

export interface DatasetFormat {
  value: string;
  name: string;
  about: string;
}

export interface Source {
  value: string;
  label: string;
}

/** Where the exported answers come from; `whose` names what one annotator's answer holds. */
export function sources(whose: string): Source[] {
  return [
    { value: "consensus", label: "the consensus" },
    { value: "gold", label: "the gold answers" },
    { value: "answers", label: `every annotator’s latest answer (${whose})` },
  ];
}

export interface MediaDatasetsProps<Q extends Question, F extends DatasetFormat> {
  project: Project;
  questions: Q[];
  /** e.g. "image": the heading, the group's name and the files left out are said with it */
  media: string;
  /** the label of the question picker ("Shape question") and of the source ("Objects from") */
  questionLabel: string;
  sourceLabel: string;
  questionName?: (q: Q) => string;
  sources: Source[];
  formats: F[];
  /** why a format is not offered for this question and source, or null when it is */
  unfit: (f: F, q: Q, source: string) => string | null;
}

export function MediaDatasets<Q extends Question, F extends DatasetFormat>(props: MediaDatasetsProps<Q, F>) {
  const { project, questions, media, formats, unfit } = props;
  const [name, setName] = useState(questions[0]?.name ?? "");
  const [source, setSource] = useState("consensus");
  const [refs, setRefs] = useState(false);
  const q = questions.find((s) => s.name === name) ?? questions[0];
  if (!q) return null;
  const offered = formats.filter((f) => unfit(f, q, source) === null);
  const left = formats.map((f) => unfit(f, q, source)).filter((why) => why !== null);
  const href = (f: F) => `/api/projects/${project.id}/export?${new URLSearchParams({
    format: f.value, question: q.name, source, images: refs ? "refs" : "include",
  })}`;
  const shown = props.questionName ?? ((s: Q) => title(s));
  return (
    <div class="image-export" aria-label={`${media} datasets`} role="group">
      <h3>{`${media[0]!.toUpperCase()}${media.slice(1)} datasets (a zip)`}</h3>
      <div class="filters">
        {questions.length > 1 && (
          <label>
            {props.questionLabel}
            <select value={q.name} onChange={(e) => setName(e.currentTarget.value)}>
              {questions.map((s) => <option value={s.name}>{shown(s)}</option>)}
            </select>
          </label>
        )}
        <label>
          {props.sourceLabel}
          <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            {props.sources.map((s) => <option value={s.value}>{s.label}</option>)}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={refs} onChange={(e) => setRefs(e.currentTarget.checked)} />
          {`Leave the ${media} files out (references.csv names each one)`}
        </label>
      </div>
      <ul class="formats">
        {offered.map((f) => (
          <li data-format={f.value}>
            <a class="button" href={href(f)} download>{`Download ${f.name}`}</a>{" "}
            <span class="about">{f.about}</span>
          </li>
        ))}
      </ul>
      {left.length > 0 && <p class="muted">{`Not offered: ${left.join("; ")}.`}</p>}
    </div>
  );
}
