/**
 * A project's learning-loop settings (docs/loop.md), edited by managers. The server checks
 * them: the form sends only the keys that changed, and a 422's problems (`loop.<key>`) are shown
 * under their own setting.
 */

import { useState } from "preact/hooks";
import { ApiError, api, errorText } from "../api";
import type { LoopSettings, Project } from "../types";

type Key = keyof LoopSettings;

interface Choice {
  value: string;
  label: string;
}

interface Setting {
  key: Key;
  label: string;
  kind: "select" | "text" | "int" | "share" | "share-or-never" | "bool";
  /** Shown only when the server's settings have this key (a newer server). */
  optional?: boolean;
  /** The range the server accepts, for the input's spin buttons (the server checks it). */
  min?: number;
  max?: number;
  choices?: (project: Project) => Choice[];
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
];

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
  { key: "encoder", label: "Text encoder", kind: "select", choices: () => ENCODERS },
  { key: "question", label: "Question the model learns", kind: "select", choices: questions },
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
];

type Draft = Record<Key, string>;

const shown = (loop: LoopSettings) => SETTINGS.filter((s) => !s.optional || s.key in loop);

function draftOf(loop: LoopSettings): Draft {
  const d = {} as Draft;
  for (const s of shown(loop)) {
    const v = loop[s.key];
    d[s.key] = v === null || v === undefined ? "" : String(v);
  }
  return d;
}

/** The changed keys, parsed, and the settings that are not numbers at all (never sent). */
function changes(loop: LoopSettings, d: Draft, bad: Set<Key>): { changed: Record<string, unknown>; local: Record<string, string> } {
  const changed: Record<string, unknown> = {};
  const local: Record<string, string> = {};
  for (const s of shown(loop)) {
    const raw = d[s.key].trim();
    let v: unknown;
    if (s.kind === "text") v = raw;
    else if (s.kind === "bool") v = raw === "true";
    else if (s.kind === "select") v = raw === "" && s.key === "question" ? null : raw;
    else if (bad.has(s.key) || (raw === "" && s.kind !== "share-or-never")) {
      local[s.key] = "enter a number";
      continue;
    } else v = raw === "" ? null : Number(raw);
    if (v !== loop[s.key]) changed[s.key] = v;
  }
  return { changed, local };
}

export function LoopSettingsForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(project.loop));
  const [bad, setBad] = useState<Set<Key>>(new Set());
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const set = (k: Key, v: string, badInput = false) => {
    setDraft({ ...draft, [k]: v });
    const next = new Set(bad);
    if (badInput) next.add(k);
    else next.delete(k);
    setBad(next);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    const { changed, local } = changes(project.loop, draft, bad);
    setProblems(local);
    if (Object.keys(local).length) return setNote("Not saved: see the marked settings.");
    if (!Object.keys(changed).length) return setNote("Nothing to save.");
    setNote("Saving…");
    try {
      const saved = await api<Project>("PATCH", `/api/projects/${project.id}`, { loop: changed });
      setDraft(draftOf(saved.loop));
      setNote("Saved.");
      onSaved(saved);
    } catch (err) {
      const byField: Record<string, string> = {};
      const other: string[] = [];
      if (err instanceof ApiError) {
        for (const p of err.problems) {
          const key = p.field?.startsWith("loop.") ? p.field.slice(5) : "";
          if (key && SETTINGS.some((s) => s.key === key)) byField[key] = p.message;
          else other.push(p.field ? `${p.field}: ${p.message}` : p.message);
        }
      }
      setProblems(byField);
      setNote(Object.keys(byField).length
        ? ["Not saved: see the marked settings.", ...other].join(" ")
        : errorText(err));
    }
  };
  // The server checks every value and names each problem; the browser's own checks would refuse
  // some values with a bubble that cannot say what the server would say (noValidate).
  return (
    <form class="settings" onSubmit={save} aria-label="loop settings" noValidate>
      {shown(project.loop).map((s) => {
        const id = `ls-${s.key}`;
        const problem = problems[s.key];
        const described = problem ? `${id}-problem` : undefined;
        const value = draft[s.key];
        let control;
        if (s.kind === "select") {
          const choices = [...s.choices!(project)];
          if (!choices.some((c) => c.value === value)) choices.push({ value, label: value });
          control = (
            <select id={id} value={value} aria-invalid={!!problem} aria-describedby={described}
              onChange={(e) => set(s.key, e.currentTarget.value)}>
              {choices.map((c) => <option value={c.value}>{c.label}</option>)}
            </select>
          );
        } else if (s.kind === "bool") {
          control = (
            <input id={id} type="checkbox" checked={value === "true"} aria-invalid={!!problem}
              aria-describedby={described} onChange={(e) => set(s.key, String(e.currentTarget.checked))} />
          );
        } else if (s.kind === "text") {
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
            <label for={id}>
              {s.label}
              {control}
            </label>
            {problem && <p class="error" id={described}>{problem}</p>}
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
