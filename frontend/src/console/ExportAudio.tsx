/**
 * The export menu's audio datasets (docs/audio.md, "Formats"): one `audio_segments` question as a
 * NeMo manifest, SRT or WebVTT subtitles, or RTTM speaker turns, in a zip with the audio files (or
 * `references.csv` instead). Only what the server would write is offered (`services/exporting/
 * audio_plan.py`): answers named by annotator only in NeMo, RTTM only when no label holds a space.
 */

import { useState } from "preact/hooks";
import { title } from "../questions/kind";
import type { AudioSegmentsQuestion, Project } from "../types";

interface AudioFormat {
  value: string;
  name: string;
  about: string;
}

const AUDIO_FORMATS: AudioFormat[] = [
  {
    value: "nemo", name: "NeMo manifest",
    about: "manifest.jsonl (one line per segment: audio_filepath, offset, duration, text, label), Hugging Face metadata.jsonl and audio/",
  },
  { value: "srt", name: "SRT", about: "one .srt per audio file, beside it: cues of the transcripts (or classes)" },
  { value: "webvtt", name: "WebVTT", about: "one .vtt per audio file, beside it: cues with the class as the voice" },
  { value: "rttm", name: "RTTM", about: "one .rttm per audio file, beside it: SPEAKER lines, for diarization" },
];

const SOURCES = [
  { value: "consensus", label: "the consensus" },
  { value: "gold", label: "the gold answers" },
  { value: "answers", label: "every annotator’s latest answer (each segment named by who marked it)" },
];

function labelValue(l: string | { value: string }): string {
  return typeof l === "string" ? l : l.value;
}

/** Why a format is not offered for this question and source, or null when it is. */
function unfit(f: AudioFormat, q: AudioSegmentsQuestion, source: string): string | null {
  if (source === "answers" && f.value !== "nemo") return `${f.name} has no place for who marked a segment`;
  if (f.value === "rttm" && q.labels.some((l) => /\s/.test(labelValue(l)) || !labelValue(l))) {
    return "RTTM cannot hold a label with a space";
  }
  return null;
}

export function AudioDatasets({ project }: { project: Project }) {
  const questions = project.label_schema.questions.filter(
    (q): q is AudioSegmentsQuestion => q.type === "audio_segments");
  const [name, setName] = useState(questions[0]?.name ?? "");
  const [source, setSource] = useState("consensus");
  const [refs, setRefs] = useState(false);
  const q = questions.find((s) => s.name === name) ?? questions[0];
  if (!q) return null;
  const offered = AUDIO_FORMATS.filter((f) => unfit(f, q, source) === null);
  const left = AUDIO_FORMATS.map((f) => unfit(f, q, source)).filter((why) => why !== null);
  const href = (f: AudioFormat) => `/api/projects/${project.id}/export?${new URLSearchParams({
    format: f.value, question: q.name, source, images: refs ? "refs" : "include",
  })}`;
  return (
    <div class="image-export" aria-label="audio datasets" role="group">
      <h3>Audio datasets (a zip)</h3>
      <div class="filters">
        {questions.length > 1 && (
          <label>
            Segments question
            <select value={q.name} onChange={(e) => setName(e.currentTarget.value)}>
              {questions.map((s) => <option value={s.name}>{title(s)}</option>)}
            </select>
          </label>
        )}
        <label>
          Segments from
          <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
            {SOURCES.map((s) => <option value={s.value}>{s.label}</option>)}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={refs} onChange={(e) => setRefs(e.currentTarget.checked)} />
          Leave the audio files out (references.csv names each one)
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
