/** A project's quality settings (docs/quality.md), edited by managers; the server checks them. */

import { useState } from "preact/hooks";
import { ApiError, api, errorText } from "../api";
import type { Project, QualitySettings } from "../types";

type Key = keyof QualitySettings;

interface Setting {
  key: Key;
  label: string;
  kind: "int" | "share" | "bool" | "share-or-never";
  min?: number;
  max?: number;
}

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
];

type Draft = Record<Key, string | boolean>;

function draftOf(q: QualitySettings): Draft {
  const d = {} as Draft;
  for (const s of SETTINGS) {
    const v = q[s.key];
    d[s.key] = typeof v === "boolean" ? v : v === null ? "" : String(v);
  }
  return d;
}

/** The keys whose drafted value differs from the current settings, parsed. */
function changes(q: QualitySettings, d: Draft): Partial<Record<Key, unknown>> {
  const out: Partial<Record<Key, unknown>> = {};
  for (const s of SETTINGS) {
    const raw = d[s.key];
    const v = typeof raw === "boolean" ? raw : raw.trim() === "" && s.kind === "share-or-never" ? null : Number(raw);
    if (v !== q[s.key]) out[s.key] = v;
  }
  return out;
}

export function QualitySettingsForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(project.quality));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const set = (k: Key, v: string | boolean) => setDraft({ ...draft, [k]: v });
  const save = async (e: Event) => {
    e.preventDefault();
    const changed = changes(project.quality, draft);
    setProblems({});
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
    <form class="settings" onSubmit={save} aria-label="quality settings">
      {SETTINGS.map((s) => {
        const id = `qs-${s.key}`;
        const problem = problems[s.key];
        const described = problem ? `${id}-problem` : undefined;
        const value = draft[s.key];
        return (
          <div class={problem ? "setting invalid" : "setting"}>
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
            {problem && <p class="error" id={described}>{problem}</p>}
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
