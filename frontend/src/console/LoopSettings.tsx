/**
 * A project's learning-loop settings (docs/loop.md), edited by managers. The server checks
 * them: the form sends only the keys that changed, and a 422's problems (`loop.<key>`, or
 * `loop.<key>.<part>`) are shown under their own setting. The image models' settings (detector,
 * segmenter) are shown on projects with a question they serve, the video tracker's on projects with a
 * video_tracks question, the speech model's on projects with
 * an audio_segments question (console/speechSettings.tsx).
 */

import { api } from "../api";
import { useSettingsForm } from "./settingsForm";
import type { LoopSettings, Project } from "../types";
import { SPEECH_SETTINGS, TranscriberInput } from "./speechSettings";

type Key = keyof LoopSettings;
export type Draft = Record<Key, string>;

export interface Choice {
  value: string;
  label: string;
}

export interface Setting {
  key: Key;
  label: string;
  /**
   * `text-or-null`: empty is null; `pairs`: a mapping, one `name: value` per line (empty: null);
   * `transcriber`: a speech model, chosen or typed (speechSettings.tsx), empty is null.
   */
  kind: "select" | "text" | "text-or-null" | "pairs" | "int" | "share" | "share-or-never" | "bool" | "transcriber";
  /** Shown only when the server's settings have this key (a newer server). */
  optional?: boolean;
  /** Shown only on projects this says yes to (the schema has a question the setting serves). */
  when?: (project: Project) => boolean;
  /** What the setting does, shown under it (and read with the field). */
  help?: string;
  /** The range the server accepts, for the input's spin buttons (the server checks it). */
  min?: number;
  max?: number;
  /** A select's options; they may depend on another setting's value in the form. */
  choices?: (project: Project, draft: Draft) => Choice[];
  /** A select whose empty option stands for null (the server's default). */
  nullable?: boolean;
  /** The setting emptied when this one changes (its options depend on this one). */
  resets?: Key;
  /** What the browser can already say is wrong with the value (the server checks it all again). */
  check?: (raw: string, project: Project, draft: Draft, badInput: boolean) => string | undefined;
}

// The same keys and values as the server's LoopSettings (services/loop_settings.py).
const STRATEGIES: Choice[] = [
  { value: "hybrid", label: "hybrid: uncertain and diverse" },
  { value: "least_confidence", label: "least confidence" },
  { value: "margin", label: "smallest margin" },
  { value: "entropy", label: "highest entropy" },
  { value: "diversity", label: "diversity: spread out" },
  { value: "random", label: "random" },
  { value: "cold_start", label: "cold start: clusters only" },
];

const ENCODERS: Choice[] = [
  { value: "hashed-tfidf", label: "hashed TF-IDF (built in)" },
  { value: "minilm", label: "MiniLM (the embeddings extra)" },
  { value: "multilingual-e5", label: "multilingual E5-small, about 100 languages (the embeddings extra)" },
];

// On a project without text fields a text encoder's name means the best installed image encoder.
const IMAGE_ENCODERS: Choice[] = [
  { value: "efficientnet-lite3", label: "images: EfficientNet-Lite3 (the images-models extra)" },
  { value: "image-features", label: "images: colour and texture features (built in)" },
];

const hasImages = (p: Project) => p.label_schema.fields.some((f) => f.type === "image");
const ofType = (p: Project, type: string) => p.label_schema.questions.filter((q) => q.type === type);
export const hasBoxes = (p: Project) => ofType(p, "bbox").length > 0;
const hasMasks = (p: Project) => ofType(p, "mask").length > 0;
const hasTracks = (p: Project) => ofType(p, "video_tracks").length > 0;
const TRACKERS = ["opencv", "opencv-csrt", "opencv-kcf", "opencv-mil"];

/** The bbox questions, the first standing for null (the default) as in `questions` below. */
function boxQuestions(project: Project): Choice[] {
  return ofType(project, "bbox").map((q, i) => ({
    value: i === 0 && project.loop.detector_question == null ? "" : q.name,
    label: q.label ? `${q.label} (${q.name})` : q.name,
  }));
}

/** A mapping as the form shows it: one `name: value` per line. */
const pairsText = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k}: ${v}`).join("\n");

/** The mapping a `pairs` field says, or the problem with its first bad line. */
function parsePairs(text: string): { value: Record<string, string> | null } | { problem: string } {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const at = line.indexOf(":");
    const name = at < 0 ? "" : line.slice(0, at).trim();
    const value = at < 0 ? "" : line.slice(at + 1).trim();
    if (!name || !value) return { problem: `line ${i + 1}: write “detector class: label”` };
    if (name in out) return { problem: `line ${i + 1}: “${name}” is named twice` };
    out[name] = value;
  }
  return { value: Object.keys(out).length ? out : null };
}

/** Whether two setting values are the same (mappings by their pairs, in any order). */
function same(a: unknown, b: unknown): boolean {
  if (a && b && typeof a === "object" && typeof b === "object") {
    const x = Object.entries(a).sort(), y = Object.entries(b).sort();
    return x.length === y.length && x.every(([k, v], i) => k === y[i]![0] && v === y[i]![1]);
  }
  return a === b;
}

/**
 * Each single-choice question once. The server's default (null) is the first of them, so that
 * question's option stands for null while nothing was chosen: a separate "the first one (…)"
 * option listed it twice.
 */
function questions(project: Project): Choice[] {
  const choice = project.label_schema.questions.filter((q) => q.type === "choice");
  if (!choice.length) return [{ value: "", label: "none: the schema has no single-choice question" }];
  return choice.map((q, i) => ({
    value: i === 0 && project.loop.question === null ? "" : q.name,
    label: q.label ? `${q.label} (${q.name})` : q.name,
  }));
}

const SETTINGS: Setting[] = [
  {
    key: "prelabels", label: "Pre-labels shown to annotators", kind: "select",
    choices: () => [
      { value: "suggest", label: "suggest (editable)" },
      { value: "require", label: "require (only items with a suggestion; none while no model passes the bar)" },
      { value: "off", label: "off (no anchoring)" },
    ],
  },
  // Pre-filled answers anchor people to the model: off by default (docs/loop.md).
  { key: "preselect", label: "Pre-fill answers with the suggestion (Enter accepts it)", kind: "bool", optional: true },
  {
    key: "suggest_min_accuracy", label: "Suggest only from a model with held-out accuracy at least (empty: any model)",
    kind: "share-or-never", min: 0, max: 1, optional: true,
  },
  { key: "model", label: "Model: builtin, a model server's URL, or python:<entry point>", kind: "text", optional: true },
  { key: "strategy", label: "Queue order after a round (strategy)", kind: "select", choices: () => STRATEGIES },
  {
    key: "encoder", label: "Encoder of the items (text, or images)", kind: "select",
    choices: (p) => (hasImages(p) ? [...ENCODERS, ...IMAGE_ENCODERS] : ENCODERS),
  },
  {
    key: "ngrams", label: "Stack word and character n-grams beside a sentence encoder's embeddings", kind: "bool",
    optional: true,
    help: "Text with MiniLM or E5: the model reads the words themselves as well as their meaning "
      + "(about 5 points more accurate on hard sentiment text; docs/learn.md).",
  },
  {
    key: "finetune", label: "Fine-tune MiniLM on part of the labels each round", kind: "bool", optional: true,
    help: "The finetune extra; a round tunes the encoder on half the labelled items (never on the items that "
      + "certify auto-labels) and trains the classifier on the rest. Slower: every item is embedded again.",
  },
  {
    key: "finetune_min_labels", label: "Labelled items a round needs before it fine-tunes", kind: "int",
    min: 4, max: 1_000_000, optional: true,
  },
  {
    key: "finetune_seconds", label: "Time budget of the fine-tuning, in seconds", kind: "int", min: 1, max: 3600,
    optional: true,
  },
  { key: "question", label: "Question the model learns", kind: "select", choices: questions, nullable: true },
  { key: "min_labels", label: "Labelled items needed before a round trains", kind: "int", min: 2, max: 1_000_000 },
  {
    key: "autolabel_target", label: "Auto-label when accuracy is provably at least (empty: never)",
    kind: "share-or-never", min: 0, max: 1,
  },
  { key: "autolabel_alpha", label: "Error rate of that guarantee", kind: "share", min: 0, max: 0.5 },
  {
    key: "label_error_confidence", label: "Send a suspected label error to review when the model is this sure",
    kind: "share", min: 0.5, max: 1,
  },
  {
    key: "label_error_min_per_class", label: "Labelled items each class needs before the model may flag labels",
    kind: "int", min: 1, max: 1_000_000, optional: true,
  },
  {
    key: "validation_items", label: "Items drawn at random to certify auto-labels", kind: "int", min: 0, max: 100_000,
    optional: true,
    help: "Every other task goes to an item drawn at random until this many have human labels: only these can "
      + "show how accurate auto-labels are, since the items a strategy picks are harder than the rest.",
  },
  {
    key: "detector", label: "Detector that pre-labels boxes (empty: none)", kind: "text-or-null",
    optional: true, when: hasBoxes,
    help: "coco: the built-in offline COCO detector (the images-models extra); or the URL of your team’s detector "
      + "server; or python:<entry point>. “labelloop loop prelabel” or the API’s loop/prelabel job runs it over "
      + "the images and shows its boxes to annotators as editable suggestions.",
  },
  {
    key: "detector_question", label: "Box question the detector pre-labels", kind: "select", choices: boxQuestions,
    nullable: true, optional: true, when: hasBoxes,
  },
  {
    key: "detector_labels", label: "Detector classes to this project’s labels (empty: the detector’s own names)",
    kind: "pairs", optional: true, when: hasBoxes,
    help: "One “detector class: label” per line, e.g. “person: pedestrian”. A detection is kept when its class is "
      + "listed here or is itself a label of the question (the built-in coco detector: only listed classes, once "
      + "any is listed); the rest are dropped.",
  },
  {
    key: "detector_threshold", label: "Detector: drop detections scoring under", kind: "share", min: 0, max: 1,
    optional: true, when: hasBoxes,
    help: "The detector’s own score, from 0 to 1: higher keeps fewer, surer boxes.",
  },
  {
    key: "segmenter", label: "Segmenter that proposes masks", kind: "text", optional: true, when: hasMasks,
    help: "grabcut: built in, offline; or the URL of your team’s segmenter server; or python:<entry point>. "
      + "It turns a box or scribbles drawn in a mask question into a proposed mask.",
  },
  {
    key: "tracker", label: "Tracker that proposes a track’s next boxes", kind: "text", optional: true, when: hasTracks,
    help: "opencv: built in, offline (the best of CSRT, KCF and MIL the installed OpenCV has; opencv-csrt, "
      + "opencv-kcf or opencv-mil for one); or the URL of your team’s tracker server; or python:<entry point>. "
      + "In the video workbench it proposes the box on the next frames from the current one.",
    check: (raw) => (TRACKERS.includes(raw) || /^(https?:\/\/|python:)/.test(raw)
      ? undefined : "opencv (or opencv-csrt, opencv-kcf, opencv-mil), an http(s) URL, or python:<entry point>"),
  },
  ...SPEECH_SETTINGS,
];
const SETTING_KEYS: readonly string[] = SETTINGS.map((s) => s.key);

const shown = (project: Project) =>
  SETTINGS.filter((s) => (!s.optional || s.key in project.loop) && (!s.when || s.when(project)));

function draftOf(project: Project): Draft {
  const d = {} as Draft;
  for (const s of shown(project)) {
    const v = project.loop[s.key];
    d[s.key] = v === null || v === undefined ? "" : typeof v === "object" ? pairsText(v) : String(v);
  }
  return d;
}

/** The changed keys, parsed, and the settings that are not numbers at all (never sent). */
function changes(project: Project, d: Draft, bad: Set<Key>): { changed: Record<string, unknown>; local: Record<string, string> } {
  const loop = project.loop;
  const changed: Record<string, unknown> = {};
  const local: Record<string, string> = {};
  for (const s of shown(project)) {
    const raw = d[s.key].trim();
    const problem = s.check?.(raw, project, d, bad.has(s.key));
    if (problem) {
      local[s.key] = problem;
      continue;
    }
    let v: unknown;
    if (s.kind === "text") v = raw;
    else if (s.kind === "text-or-null" || s.kind === "transcriber") v = raw === "" ? null : raw;
    else if (s.kind === "pairs") {
      const parsed = parsePairs(raw);
      if ("problem" in parsed) {
        local[s.key] = parsed.problem;
        continue;
      }
      v = parsed.value;
    } else if (s.kind === "bool") v = raw === "true";
    else if (s.kind === "select") v = raw === "" && s.nullable ? null : raw;
    else if (bad.has(s.key) || (raw === "" && s.kind !== "share-or-never")) {
      local[s.key] = "enter a number";
      continue;
    } else v = raw === "" ? null : Number(raw);
    if (!same(v, loop[s.key] ?? null)) changed[s.key] = v;
  }
  return { changed, local };
}

export function LoopSettingsForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const { draft, set, problems, note, save } = useSettingsForm<Key, Project>({
    draftOf, initial: project, changes: (d, bad) => changes(project, d, bad), patch: (changed) => api<Project>("PATCH", `/api/projects/${project.id}`, { loop: changed }),
    prefix: "loop.", keys: SETTING_KEYS, onSaved,
  });
  // The server checks every value and names each problem; the browser's own checks would refuse
  // some values with a bubble that cannot say what the server would say (noValidate).
  return (
    <form class="settings" onSubmit={save} aria-label="loop settings" noValidate>
      {shown(project).map((s) => {
        const id = `ls-${s.key}`;
        const problem = problems[s.key];
        const described = [s.help ? `${id}-help` : "", problem ? `${id}-problem` : ""].join(" ").trim() || undefined;
        const value = draft[s.key];
        let control;
        if (s.kind === "transcriber") {
          // Labels of its own (a choice, then the URL or entry point); made again once saved, so
          // that its choice is the saved value's.
          control = (
            <TranscriberInput key={String(project.loop[s.key] ?? "")} id={id} label={s.label} value={value}
              problem={!!problem} described={described} onChange={(v, badInput) => set(s.key, v, badInput)} />
          );
        } else if (s.kind === "select") {
          const choices = [...s.choices!(project, draft)];
          if (!choices.some((c) => c.value === value)) choices.push({ value, label: value });
          control = (
            <select id={id} value={value} aria-invalid={!!problem} aria-describedby={described}
              onChange={(e) => {
                set(s.key, e.currentTarget.value);
                if (s.resets) set(s.resets, "");
              }}>
              {choices.map((c) => <option value={c.value}>{c.label}</option>)}
            </select>
          );
        } else if (s.kind === "bool") {
          control = (
            <input id={id} type="checkbox" checked={value === "true"} aria-invalid={!!problem}
              aria-describedby={described} onChange={(e) => set(s.key, String(e.currentTarget.checked))} />
          );
        } else if (s.kind === "pairs") {
          control = (
            <textarea id={id} value={value} rows={3} spellcheck={false} aria-invalid={!!problem}
              aria-describedby={described} onInput={(e) => set(s.key, e.currentTarget.value)} />
          );
        } else if (s.kind === "text" || s.kind === "text-or-null") {
          control = (
            <input id={id} value={value} spellcheck={false} aria-invalid={!!problem} aria-describedby={described}
              onInput={(e) => set(s.key, e.currentTarget.value)} />
          );
        } else {
          control = (
            <input id={id} type="number" value={value} min={s.min} max={s.max}
              step={s.kind === "int" ? 1 : "any"} required={s.kind !== "share-or-never"}
              aria-invalid={!!problem} aria-describedby={described}
              onInput={(e) => set(s.key, e.currentTarget.value, e.currentTarget.validity.badInput)} />
          );
        }
        return (
          <div class={problem ? "setting invalid" : "setting"} data-setting={s.key}>
            {s.kind === "transcriber" ? control : (
              <label for={id}>
                {s.label}
                {control}
              </label>
            )}
            {s.help && <p class="help" id={`${id}-help`}>{s.help}</p>}
            {problem && <p class="error" id={`${id}-problem`}>{problem}</p>}
          </div>
        );
      })}
      <div class="buttons">
        <button type="submit">Save loop settings</button>
        <span role="status">{note}</span>
      </div>
    </form>
  );
}
