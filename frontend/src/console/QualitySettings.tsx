/** A project's quality settings (docs/quality.md), edited by managers; the server checks them. */

import { useState } from "preact/hooks";
import { ApiError, api, errorText } from "../api";
import { isShapeQuestion } from "../canvas/words";
import type { Project, QualitySettings } from "../types";

type Key = keyof QualitySettings;

interface Setting {
  key: Key;
  label: string;
  kind: "int" | "share" | "bool" | "share-or-never";
  min?: number;
  max?: number;
  /** What the setting does, shown under it (and read with the field). */
  help?: string;
  /** Shown only on projects this says yes to (and when the server has the key: a newer server). */
  when?: (project: Project) => boolean;
}

const hasShapes = (p: Project) => p.label_schema.questions.some(isShapeQuestion);
/** A `text` question of a project with audio: a typed transcript, scored on gold by WER. */
const hasTypedTranscripts = (p: Project) =>
  p.label_schema.fields.some((f) => f.type === "audio") && p.label_schema.questions.some((q) => q.type === "text");

// The same keys, ranges and meanings as the server's QualitySettings (docs/quality.md).
const SETTINGS: Setting[] = [
  { key: "gold_first", label: "Gold items each annotator gets first", kind: "int", min: 0, max: 1000 },
  { key: "gold_rate", label: "Share of later tasks that are gold", kind: "share", min: 0, max: 1 },
  { key: "adaptive", label: "Adaptive overlap: ask for more answers only while unsure", kind: "bool" },
  { key: "min_overlap", label: "Adaptive: answers every item gets", kind: "int", min: 1, max: 100 },
  { key: "target_confidence", label: "Adaptive: stop once the consensus is this sure", kind: "share", min: 0, max: 1 },
  { key: "review_below", label: "Send to review when less sure than (0: never)", kind: "share", min: 0, max: 1 },
  { key: "trust_min_accuracy", label: "Pause annotators credibly below this gold accuracy (empty: never)", kind: "share-or-never", min: 0, max: 1 },
  { key: "trust_min_gold", label: "Gold answers before anyone can be paused", kind: "int", min: 1, max: 10000 },
  { key: "trust_credibility", label: "How sure “credibly below” must be", kind: "share", min: 0.5, max: 1 },
  { key: "exclude_paused", label: "Leave paused annotators’ answers out of consensus", kind: "bool" },
  {
    key: "gold_shape_score", label: "Shapes on a gold item count as right from this F1", kind: "share", min: 0, max: 1,
    when: hasShapes,
    help: "An annotator’s boxes, polygons, masks or keypoints on a gold image are matched one to one with the gold "
      + "objects of the same class (IoU 0.5; OKS for keypoints). The answer counts as right for gold accuracy "
      + "and pausing when its F1 is at least this: at 0.8, missing one object of five passes (0.89), two fail (0.75).",
  },
  {
    key: "gold_max_wer", label: "Typed transcripts on a gold clip count as right up to this word error rate", kind: "share",
    min: 0, max: 1, when: hasTypedTranscripts,
    help: "A transcript typed for a whole clip is compared with the gold transcript word by word, both lower-cased and "
      + "without punctuation. It counts as right for gold accuracy and pausing when its word error rate is at most "
      + "this: at 0, the same words (case and punctuation never count); at 0.1, one word wrong in ten passes.",
  },
];

/** The settings this project's form shows. */
const shown = (project: Project) =>
  SETTINGS.filter((s) => !s.when || (s.when(project) && s.key in project.quality));

type Draft = Record<Key, string | boolean>;

function draftOf(q: QualitySettings): Draft {
  const d = {} as Draft;
  for (const s of SETTINGS) {
    if (!(s.key in q)) continue;
    const v = q[s.key];
    d[s.key] = typeof v === "boolean" ? v : v === null ? "" : String(v);
  }
  return d;
}

/**
 * The keys whose drafted value differs from the current settings, parsed, and the settings that
 * are no number at all (an empty field, or one the browser could not read: never sent).
 */
function changes(project: Project, d: Draft): { changed: Partial<Record<Key, unknown>>; local: Record<string, string> } {
  const q = project.quality;
  const changed: Partial<Record<Key, unknown>> = {};
  const local: Record<string, string> = {};
  for (const s of shown(project)) {
    const raw = d[s.key];
    let v: unknown;
    if (typeof raw === "boolean") v = raw;
    else if (raw.trim() === "" && s.kind === "share-or-never") v = null;
    else if (raw.trim() === "" || !Number.isFinite(Number(raw))) {
      local[s.key] = "enter a number";
      continue;
    } else v = Number(raw);
    if (v !== q[s.key]) changed[s.key] = v;
  }
  return { changed, local };
}

export function QualitySettingsForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(project.quality));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const set = (k: Key, v: string | boolean) => setDraft({ ...draft, [k]: v });
  const save = async (e: Event) => {
    e.preventDefault();
    const { changed, local } = changes(project, draft);
    setProblems(local);
    if (Object.keys(local).length) return setNote("Not saved: see the marked settings.");
    if (!Object.keys(changed).length) return setNote("Nothing to save.");
    try {
      const saved = await api<Project>("PATCH", `/api/projects/${project.id}`, { quality: changed });
      setDraft(draftOf(saved.quality));
      setNote("Saved.");
      onSaved(saved);
    } catch (err) {
      const byField: Record<string, string> = {};
      if (err instanceof ApiError) {
        for (const p of err.problems) if (p.field?.startsWith("quality.")) byField[p.field.slice(8)] = p.message;
      }
      setProblems(byField);
      setNote(Object.keys(byField).length ? "Not saved: see the marked settings." : errorText(err));
    }
  };
  return (
    // The server checks every value and names each problem, shown under its setting; the browser's
    // own checks would refuse some values with a bubble that cannot say what the server would say.
    <form class="settings" onSubmit={save} aria-label="quality settings" noValidate>
      {shown(project).map((s) => {
        const id = `qs-${s.key}`;
        const problem = problems[s.key];
        const described = [s.help ? `${id}-help` : "", problem ? `${id}-problem` : ""].join(" ").trim() || undefined;
        const value = draft[s.key];
        return (
          <div class={problem ? "setting invalid" : "setting"} data-setting={s.key}>
            {s.kind === "bool" ? (
              <label class="check">
                <input id={id} type="checkbox" checked={value === true} aria-invalid={!!problem}
                  aria-describedby={described} onChange={(e) => set(s.key, e.currentTarget.checked)} />
                {s.label}
              </label>
            ) : (
              <label for={id}>
                {s.label}
                <input id={id} type="number" value={String(value)} min={s.min} max={s.max}
                  step={s.kind === "int" ? 1 : "any"} required={s.kind !== "share-or-never"}
                  aria-invalid={!!problem} aria-describedby={described}
                  onInput={(e) => set(s.key, e.currentTarget.value)} />
              </label>
            )}
            {s.help && <p class="help" id={`${id}-help`}>{s.help}</p>}
            {problem && <p class="error" id={`${id}-problem`}>{problem}</p>}
          </div>
        );
      })}
      <div class="buttons">
        <button type="submit">Save quality settings</button>
        <span role="status">{note}</span>
      </div>
    </form>
  );
}
