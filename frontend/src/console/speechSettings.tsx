/**
 * The speech model's loop settings (docs/audio.md, "Speech-to-text pre-labels"), shown on projects
 * with an `audio_segments` question: which model (`transcriber`: whisper, vad, a team's model at a
 * URL, or a Python entry point), the question it pre-labels and the label its segments get.
 */

import { useState } from "preact/hooks";
import type { Project, SpanLabel } from "../types";
import type { Choice, Draft, Setting } from "./LoopSettings";

const ENTRY = "python:";

const segmentQuestions = (p: Project) => p.label_schema.questions.filter((q) => q.type === "audio_segments");
export const hasSegments = (p: Project) => segmentQuestions(p).length > 0;

/** The question the draft names, else the first (the server's default for null). */
function draftQuestion(project: Project, draft: Draft) {
  const all = segmentQuestions(project);
  return draft.transcriber_question ? all.find((q) => q.name === draft.transcriber_question) : all[0];
}

function labelsOf(project: Project, draft: Draft): SpanLabel[] {
  const q = draftQuestion(project, draft);
  return q && "labels" in q ? (q.labels as SpanLabel[]) : [];
}

/** The audio_segments questions, the first standing for null (the default) while nothing was chosen. */
function questionChoices(project: Project): Choice[] {
  return segmentQuestions(project).map((q, i) => ({
    value: i === 0 && project.loop.transcriber_question == null ? "" : q.name,
    label: q.label ? `${q.label} (${q.name})` : q.name,
  }));
}

/**
 * The labels of the question chosen in the form (not the saved one: choosing another question
 * empties the label, which then stands for that question's first label, the server's default).
 */
function labelChoices(project: Project, draft: Draft): Choice[] {
  const labels = labelsOf(project, draft);
  if (!labels.length) return [{ value: "", label: "none: choose an audio question first" }];
  return labels.map((l, i) => ({
    value: i === 0 && draft.transcriber_label === "" ? "" : l.value,
    label: l.label && l.label !== l.value ? `${l.label} (${l.value})` : l.value,
  }));
}

function labelProblem(raw: string, project: Project, draft: Draft): string | undefined {
  if (!raw || labelsOf(project, draft).some((l) => l.value === raw)) return undefined;
  const q = draftQuestion(project, draft);
  return `“${raw}” is not a label of ${q ? `“${q.name}”` : "the chosen question"}: choose one of its labels`;
}

function transcriberProblem(raw: string, badInput: boolean): string | undefined {
  if (badInput) return "enter the URL of your team’s speech model (http:// or https://)";
  if (raw.startsWith(ENTRY) && !raw.slice(ENTRY.length).trim()) return "enter the name of the entry point (group labelloop.transcribers)";
  return undefined;
}

export const SPEECH_SETTINGS: Setting[] = [
  {
    key: "transcriber", label: "Speech model that pre-labels audio segments", kind: "transcriber",
    optional: true, when: hasSegments, check: (raw, _p, _d, badInput) => transcriberProblem(raw, badInput),
    help: "whisper: Whisper tiny.en, offline (the speech extra): segments with their transcripts and word "
      + "timings. vad: where someone speaks, no text. Or your team’s model at a URL, or a Python entry point. "
      + "“Pre-label audio” above runs it over the audio files.",
  },
  {
    key: "transcriber_question", label: "Audio question the speech model pre-labels", kind: "select",
    nullable: true, optional: true, when: hasSegments, choices: questionChoices, resets: "transcriber_label",
  },
  {
    key: "transcriber_label", label: "Label of the speech model’s segments", kind: "select", nullable: true,
    optional: true, when: hasSegments, choices: labelChoices,
    check: (raw, project, draft) => labelProblem(raw, project, draft),
    help: "Every segment the model finds gets this label (speech, a speaker…).",
  },
];

type Mode = "" | "whisper" | "vad" | "url" | "entry";

const modeOf = (v: string): Mode =>
  v === "" ? "" : v === "whisper" || v === "vad" ? v : v.startsWith(ENTRY) ? "entry" : "url";

const MODES: { value: Mode; label: string }[] = [
  { value: "", label: "none" },
  { value: "whisper", label: "whisper: Whisper tiny.en, offline" },
  { value: "vad", label: "vad: voice activity only, no text" },
  { value: "url", label: "your team’s model at a URL" },
  { value: "entry", label: "a Python entry point" },
];

interface TranscriberProps {
  id: string;
  label: string;
  value: string;
  problem: boolean;
  described?: string;
  /** The setting's new value, and whether it is not one yet (a URL left empty). */
  onChange: (value: string, badInput: boolean) => void;
}

/**
 * The model as a choice, and for a URL or an entry point the text of it. The choice is kept apart
 * from the value, which cannot say "a URL" before one is typed. The value is sent as typed: the
 * server says what is wrong with a URL, under the setting.
 */
export function TranscriberInput({ id, label, value, problem, described, onChange }: TranscriberProps) {
  const [mode, setMode] = useState<Mode>(() => modeOf(value));
  const choose = (m: Mode) => {
    setMode(m);
    if (m === "url") onChange(modeOf(value) === "url" ? value : "", modeOf(value) !== "url");
    else if (m === "entry") onChange(modeOf(value) === "entry" ? value : ENTRY, false);
    else onChange(m, false);
  };
  const text = mode === "entry" ? value.slice(ENTRY.length) : value;
  return (
    <>
      <label for={id}>
        {label}
        <select id={id} value={mode} aria-invalid={problem} aria-describedby={described}
          onChange={(e) => choose(e.currentTarget.value as Mode)}>
          {MODES.map((m) => <option value={m.value}>{m.label}</option>)}
        </select>
      </label>
      {(mode === "url" || mode === "entry") && (
        <label for={`${id}-text`}>
          {mode === "url" ? "URL of the speech model" : "Entry point name (group labelloop.transcribers)"}
          <input id={`${id}-text`} value={text} spellcheck={false} aria-invalid={problem}
            aria-describedby={described}
            placeholder={mode === "url" ? "https://asr.example.org" : "my_package_asr"}
            onInput={(e) => {
              const typed = e.currentTarget.value;
              if (mode === "url") onChange(typed, typed.trim() === "");
              else onChange(ENTRY + typed.replace(/^\s*python:/, "").trimStart(), false);
            }} />
        </label>
      )}
    </>
  );
}
