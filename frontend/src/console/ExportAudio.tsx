/**
 * The export menu's audio datasets (docs/audio.md, "Formats"): one `audio_segments` question as a
 * NeMo manifest, SRT or WebVTT subtitles, or RTTM speaker turns, in a zip with the audio files (or
 * `references.csv` instead). Only what the server would write is offered (`services/exporting/
 * audio_plan.py`): answers named by annotator only in NeMo, RTTM only when no label holds a space.
 */

import type { AudioSegmentsQuestion, Project } from "../types";
import { type DatasetFormat, MediaDatasets, sources } from "./MediaDatasets";

type AudioFormat = DatasetFormat;

const AUDIO_FORMATS: AudioFormat[] = [
  {
    value: "nemo", name: "NeMo manifest",
    about: "manifest.jsonl (one line per segment: audio_filepath, offset, duration, text, label), Hugging Face metadata.jsonl and audio/",
  },
  { value: "srt", name: "SRT", about: "one .srt per audio file, beside it: cues of the transcripts (or classes)" },
  { value: "webvtt", name: "WebVTT", about: "one .vtt per audio file, beside it: cues with the class as the voice" },
  { value: "rttm", name: "RTTM", about: "one .rttm per audio file, beside it: SPEAKER lines, for diarization" },
];

const SOURCES = sources("each segment named by who marked it");

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
  return (
    <MediaDatasets project={project} questions={questions} media="audio" questionLabel="Segments question"
      sourceLabel="Segments from" sources={SOURCES} formats={AUDIO_FORMATS} unfit={unfit} />
  );
}
