/** Browse a project's items: filter by status (server), and by text, label, annotator, metadata. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerText, valueText } from "../format";
import type { Item, StoredAnswer } from "../types";
import { projectAnswers } from "./data";

const PAGE = 200;

function matches(item: Item, answers: StoredAnswer[], f: { text: string; label: string; annotator: string; meta: string }): boolean {
  const has = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());
  if (f.text && !has(Object.values(item.data).map(valueText).join(" "), f.text)) return false;
  if (f.meta && !has(JSON.stringify(item.meta), f.meta)) return false;
  if (f.annotator && !answers.some((a) => has(a.username ?? "", f.annotator))) return false;
  if (f.label && !answers.some((a) => has(answerText(a.value), f.label))) return false;
  return true;
}

export function ItemBrowser({ projectId }: { projectId: number }) {
  const [status, setStatus] = useState("");
  const [items, setItems] = useState<Item[]>([]);
  const [more, setMore] = useState(false);
  const [answers, setAnswers] = useState<Map<number, StoredAnswer[]>>(new Map());
  const [filters, setFilters] = useState({ text: "", label: "", annotator: "", meta: "" });
  const [error, setError] = useState("");

  const load = async (after: number, reset: boolean) => {
    try {
      const q = `after=${after}&limit=${PAGE}${status ? `&status=${status}` : ""}`;
      const page = await api<Item[]>("GET", `/api/projects/${projectId}/items?${q}`);
      setItems((old) => (reset ? page : [...old, ...page]));
      setMore(page.length === PAGE);
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => void load(0, true), [status, projectId]);
  useEffect(() => {
    projectAnswers(projectId).then(({ answers: all }) => {
      const by = new Map<number, StoredAnswer[]>();
      for (const a of all) by.set(a.item_id, [...(by.get(a.item_id) ?? []), a]);
      setAnswers(by);
    }).catch(() => undefined);
  }, [projectId]);

  const shown = items.filter((i) => matches(i, answers.get(i.id) ?? [], filters));
  const set = (k: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <main class="items">
      <div class="bar">
        <h1>Items</h1>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="open">not started</option>
            <option value="in_progress">in progress</option>
            <option value="done">done</option>
          </select>
        </label>
        <label>Text<input type="search" value={filters.text} onInput={set("text")} /></label>
        <label>Label<input type="search" value={filters.label} onInput={set("label")} /></label>
        <label>Annotator<input type="search" value={filters.annotator} onInput={set("annotator")} /></label>
        <label>Metadata<input type="search" value={filters.meta} onInput={set("meta")} /></label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted" role="status">{`${shown.length} of ${items.length} loaded items`}</p>
      <table class="data">
        <thead><tr><th scope="col">Id</th><th scope="col">Content</th><th scope="col">Status</th><th scope="col">Answers</th></tr></thead>
        <tbody>
          {shown.map((i) => (
            <tr>
              <td><a href={`#/p/${projectId}/items/${i.id}`}>{i.external_id}</a></td>
              <td>{Object.values(i.data).map(valueText).join(" · ").slice(0, 200)}</td>
              <td>{i.status}</td>
              <td>{(answers.get(i.id) ?? []).map((a) => `${a.username}: ${answerText(a.value)}`).join(" | ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && <button type="button" onClick={() => void load(items[items.length - 1]!.id, false)}>Load more</button>}
    </main>
  );
}
