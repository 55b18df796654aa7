/**
 * What the console's settings forms share (loop, generation): a draft of every setting as text,
 * the settings the browser already knows are bad, and saving only what changed, with the server's
 * 422 problems (`<prefix><key>`, or `<prefix><key>.<part>` for a part of a mapping) shown under
 * their own setting.
 */

import { useState } from "preact/hooks";
import { ApiError, errorText } from "../api";

export interface SettingsFormOptions<K extends string, T> {
  /** The draft of the settings as they are stored. */
  draftOf: (saved: T) => Record<K, string>;
  initial: T;
  /** What changed, and the problems the browser can already name, by setting. */
  changes: (draft: Record<K, string>, bad: Set<K>) => { changed: Record<string, unknown>; local: Record<string, string> };
  /** Sends what changed; answers the settings as stored. */
  patch: (changed: Record<string, unknown>) => Promise<T>;
  /** The problems' field prefix (`loop.`, `generation.`) and the settings the form shows. */
  prefix: string;
  keys: readonly string[];
  onSaved: (saved: T) => void;
}

export function useSettingsForm<K extends string, T>(o: SettingsFormOptions<K, T>) {
  const [draft, setDraft] = useState<Record<K, string>>(() => o.draftOf(o.initial));
  const [bad, setBad] = useState<Set<K>>(new Set());
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  // Updates from the state as it is, not as this render saw it: one change may set two settings
  // (a question and the label that must be one of its labels).
  const set = (k: K, v: string, badInput = false) => {
    setDraft((d) => ({ ...d, [k]: v }));
    setBad((b) => {
      const next = new Set(b);
      if (badInput) next.add(k);
      else next.delete(k);
      return next;
    });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    const { changed, local } = o.changes(draft, bad);
    setProblems(local);
    if (Object.keys(local).length) return setNote("Not saved: see the marked settings.");
    if (!Object.keys(changed).length) return setNote("Nothing to save.");
    setNote("Saving…");
    try {
      const saved = await o.patch(changed);
      setDraft(o.draftOf(saved));
      setNote("Saved.");
      o.onSaved(saved);
    } catch (err) {
      const byField: Record<string, string> = {};
      const other: string[] = [];
      if (err instanceof ApiError) {
        for (const p of err.problems) {
          const key = p.field?.startsWith(o.prefix) ? p.field.slice(o.prefix.length).split(".")[0]! : "";
          if (key && o.keys.includes(key)) byField[key] = p.message;
          else other.push(p.field ? `${p.field}: ${p.message}` : p.message);
        }
      }
      setProblems(byField);
      setNote(Object.keys(byField).length
        ? ["Not saved: see the marked settings.", ...other].join(" ")
        : errorText(err));
    }
  };
  return { draft, set, problems, note, save };
}
