/**
 * The suggestion shown with a task (docs/loop.md): a model's answer from the loop (the task's
 * `prelabel`, sent only while a model passes the project's accuracy bar) or else the item's own
 * imported `meta.prelabel`. By default it is shown beside the questions and applied with one key
 * or click; a project may pre-fill answers with it instead (`preselect`), which anchors people to
 * the model. The page sends back only which suggestion it showed; the server works out, per
 * question, whether the answer kept it, so nothing here can make a suggestion pass as a
 * person's answer.
 *
 * Shape questions (boxes, polygons, keypoints, masks) also draw the suggested objects on the
 * image, dashed in the model's colour, until they are taken: one by one (a click, or y) or all
 * at once (`A`, which puts the suggestion's whole value in the answer); canvas/others.tsx.
 * Audio segment questions show theirs dashed in a lane under the waveform (audio/Waveform.tsx).
 */

import { isShapeQuestion } from "../canvas/words";
import { questionValueText } from "../format";
import { title, type OtherValue } from "../questions/kind";
import type { Answer, LabelSchema, Question, Task } from "../types";

export interface Suggestion {
  /** The model version, or "import" for the item's own pre-label: sent back with the answer. */
  version: number | "import";
  value: Record<string, unknown>;
  confidence: number | null;
}

export const APPLY_KEY = "a";

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

export function suggestionOf(task: Task | null): Suggestion | null {
  const p = task?.prelabel;
  if (p && isObject(p.value)) return { version: p.model_version, value: p.value, confidence: p.confidence };
  const imported = task?.meta?.prelabel;
  return isObject(imported) ? { version: "import", value: imported, confidence: null } : null;
}

/** The suggestion's values for the schema's questions (anything else in it is ignored). */
export function suggestedValues(schema: LabelSchema, s: Suggestion): Answer {
  const out: Answer = {};
  for (const q of schema.questions) {
    const v = s.value[q.name];
    if (v !== undefined && v !== null) out[q.name] = v;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Whether the answer already holds every value of the suggestion. */
export function suggestionInAnswer(schema: LabelSchema, s: Suggestion, answer: Answer): boolean {
  return Object.entries(suggestedValues(schema, s)).every(([q, v]) => same(answer[q], v));
}

/** Questions marked as the suggestion's that still hold its value (after a newer one came). */
export function stillSuggested(schema: LabelSchema, s: Suggestion | null, answer: Answer, marked: Set<string>): Set<string> {
  const values = s ? suggestedValues(schema, s) : {};
  return new Set([...marked].filter((q) => q in values && same(answer[q], values[q])));
}

// One per suggestion: the canvas draws a layer again only when its values change.
const drawn = new WeakMap<Suggestion, Record<string, OtherValue[]>>();

/** Per shape question, the suggestion as a value to draw on the image (questions/kind.ts: OtherValue). */
export function suggestionLayers(schema: LabelSchema, s: Suggestion | null): Record<string, OtherValue[]> | undefined {
  if (!s) return undefined;
  let out = drawn.get(s);
  if (!out) {
    out = {};
    const who = s.version === "import" ? "The imported suggestion" : `Model ${s.version}`;
    for (const [name, value] of Object.entries(suggestedValues(schema, s))) {
      const q = schema.questions.find((x) => x.name === name);
      const tracks = q?.type === "video_tracks" && !!value && typeof value === "object";
      if (q && (((isShapeQuestion(q) || q.type === "audio_segments") && Array.isArray(value)) || tracks)) {
        out[name] = [{ id: "model", who, kind: "model", value }];
      }
    }
    drawn.set(s, out);
  }
  return out;
}

/** The apply key works unless the schema gives it to an option, a span label or a shape class. */
export function applyKeyFree(schema: LabelSchema): boolean {
  const keys = (q: Question) =>
    q.type === "choice" || q.type === "multi_choice" ? q.options.map((o) => o.key)
      : q.type === "spans" || q.type === "audio_segments" || isShapeQuestion(q) ? q.labels.map((l) => l.key) : [];
  return !schema.questions.some((q) => keys(q).some((k) => k?.toLowerCase() === APPLY_KEY));
}

export function isApplyKey(e: KeyboardEvent): boolean {
  return e.key.toLowerCase() === APPLY_KEY && !e.ctrlKey && !e.altKey && !e.metaKey;
}

export function SuggestionHint({ schema, suggestion, answer, data, onApply }: {
  schema: LabelSchema;
  suggestion: Suggestion;
  answer: Answer;
  data: Record<string, unknown>;
  onApply: () => void;
}) {
  const values = suggestedValues(schema, suggestion);
  const questions = schema.questions.filter((q) => q.name in values);
  if (!questions.length) return null;
  const imported = suggestion.version === "import";
  const sure = suggestion.confidence === null ? "" : `, ${Math.round(suggestion.confidence * 100)}% sure`;
  const inUse = suggestionInAnswer(schema, suggestion, answer);
  const key = applyKeyFree(schema);
  return (
    <aside class="suggestion" aria-label="suggestion" data-version={String(suggestion.version)}>
      <p class="suggestion-title">
        <span class="badge model">{imported ? "Imported suggestion" : `Model ${suggestion.version} suggests${sure}`}</span>
      </p>
      <dl>
        {questions.map((q) => (
          <div>
            <dt>{title(q)}</dt>
            <dd>
              {questionValueText(q, values[q.name], data)}
              {isShapeQuestion(q) && <span class="muted">{" (dashed on the image)"}</span>}
              {q.type === "audio_segments" && <span class="muted">{" (dashed under the waveform)"}</span>}
            </dd>
          </div>
        ))}
      </dl>
      <button type="button" onClick={onApply} disabled={inUse} aria-keyshortcuts={key ? "A" : undefined}>
        {inUse ? "Suggestion in use" : <>Use the suggestion{key && <> <kbd>A</kbd></>}</>}
      </button>
    </aside>
  );
}
