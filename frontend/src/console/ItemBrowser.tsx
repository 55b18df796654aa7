/**
 * Browse a project's items, filtered on the server (text, annotator, consensus label,
 * metadata, review, status, suspected by the model) and paged by id (keyset). The filters
 * live in the URL, so a reload or a shared link shows the same items.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerLabels, answerText, labelIssueText, modelAnswerText, statusText, valueText } from "../format";
import { isStored, Thumbs } from "../media";
import { title } from "../questions/kind";
import { routeQuery, setRouteQuery } from "../router";
import type { Item, Member, Project } from "../types";

const PAGE = 50;
const TYPING_MS = 250;

interface Filters {
  q: string;
  status: string;
  review: string;
  annotator: string;
  label: string;
  meta: string;
  label_issue: string; // "true": suspected by the latest loop round; "false": not
}
const KEYS: (keyof Filters)[] = ["q", "status", "review", "annotator", "label", "meta", "label_issue"];

function fromUrl(): Filters {
  const p = routeQuery();
  const f = {} as Filters;
  for (const k of KEYS) f[k] = p.get(k) ?? "";
  return f;
}

/** The query the server gets: only the filters that are set (and well formed). */
function queryOf(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of KEYS) {
    const v = f[k].trim();
    if (!v) continue;
    if (k === "meta" && !metaOk(v)) continue;
    p.set(k, v);
  }
  return p;
}

const metaOk = (v: string) => /^[^:]+:/.test(v.trim());

/** `question:value` choices for the consensus filter, from the schema's choice-like questions. */
function labelChoices(project: Project): { value: string; text: string }[] {
  const out: { value: string; text: string }[] = [];
  for (const q of project.label_schema.questions) {
    if (q.type === "choice") {
      for (const o of q.options) out.push({ value: `${q.name}:${o.value}`, text: `${title(q)}: ${o.label || o.value}` });
    } else if (q.type === "rating" && q.max - q.min <= 20) {
      for (let v = q.min; v <= q.max; v++) out.push({ value: `${q.name}:${v}`, text: `${title(q)}: ${v}` });
    }
  }
  return out;
}

export function ItemBrowser({ projectId }: { projectId: number }) {
  const [filters, setFilters] = useState<Filters>(fromUrl);
  const [items, setItems] = useState<Item[]>([]);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [project, setProject] = useState<Project | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState("");
  const request = useRef(0); // answers to superseded requests are dropped

  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
    api<Member[]>("GET", `/api/projects/${projectId}/members`).then(setMembers).catch(() => undefined);
  }, [projectId]);

  const load = async (after: number) => {
    const n = ++request.current;
    const q = queryOf(filters);
    q.set("after", String(after));
    q.set("limit", String(PAGE));
    setLoading(true);
    try {
      const page = await api<Item[]>("GET", `/api/projects/${projectId}/items?${q}`);
      if (n !== request.current) return;
      setItems((old) => (after ? [...old, ...page] : page));
      setMore(page.length === PAGE);
      setError("");
    } catch (e) {
      if (n === request.current) setError(errorText(e));
    } finally {
      if (n === request.current) setLoading(false);
    }
  };
  useEffect(() => {
    setRouteQuery(queryOf(filters));
    request.current++; // what is in flight answers the old filters
    setLoading(true);
    const timer = setTimeout(() => void load(0), TYPING_MS);
    return () => clearTimeout(timer);
  }, [projectId, filters]);

  const set = (k: keyof Filters) => (e: Event) =>
    setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const metaBad = filters.meta.trim() !== "" && !metaOk(filters.meta);
  const count = `${items.length} matching item${items.length === 1 ? "" : "s"}${more ? " shown; more to load" : ""}`;
  return (
    <main class="items">
      <div class="bar">
        <h1>Items</h1>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
      </div>
      <form class="filters" role="search" aria-label="filter items" onSubmit={(e) => e.preventDefault()}>
        <label>Text
          <input type="search" name="q" value={filters.q} onInput={set("q")} placeholder="in fields or metadata" />
        </label>
        <label>Status
          <select name="status" value={filters.status} onChange={set("status")}>
            <option value="">any</option>
            <option value="open">not started</option>
            <option value="in_progress">in progress</option>
            <option value="done">done</option>
          </select>
        </label>
        <label>Review
          <select name="review" value={filters.review} onChange={set("review")}>
            <option value="">any</option>
            <option value="pending">waiting for review</option>
            <option value="done">reviewed</option>
          </select>
        </label>
        <label>Answered by
          <select name="annotator" value={filters.annotator} onChange={set("annotator")}>
            <option value="">anyone</option>
            {members.map((m) => <option value={String(m.user_id)}>{m.username}</option>)}
          </select>
        </label>
        <label>Consensus
          <select name="label" value={filters.label} onChange={set("label")}>
            <option value="">any</option>
            {project && labelChoices(project).map((c) => <option value={c.value}>{c.text}</option>)}
          </select>
        </label>
        <label>Model
          <select name="label_issue" value={filters.label_issue} onChange={set("label_issue")}>
            <option value="">any</option>
            <option value="true">suspected by the model</option>
            <option value="false">not suspected</option>
          </select>
        </label>
        <label>Metadata
          <input type="search" name="meta" value={filters.meta} onInput={set("meta")} placeholder="key:value"
            aria-invalid={metaBad} aria-describedby="meta-hint" />
        </label>
      </form>
      <p id="meta-hint" class={metaBad ? "notice" : "muted"}>
        {metaBad ? "Write the metadata filter as key:value (e.g. lang:fr)." : "Metadata: key:value, e.g. lang:fr."}
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {/* rows wait for the schema too: they show its labels, not the stored values */}
      <p class="muted" role="status" aria-busy={loading || !project}>{loading || !project ? "Searching…" : count}</p>
      <table class="data">
        <thead>
          <tr><th scope="col">Id</th><th scope="col">Content</th><th scope="col">Status</th><th scope="col">Answers</th><th scope="col">Gold</th><th scope="col">Label</th><th scope="col">Suspected label</th></tr>
        </thead>
        <tbody>
          {project && items.map((i) => (
            <tr data-item={i.id}>
              <td><a href={`#/p/${projectId}/items/${i.id}`}>{i.external_id}</a></td>
              <td>
                <Thumbs fields={project.label_schema.fields} data={i.data} />
                {Object.values(i.data).filter((v) => !isStored(v)).map(valueText).join(" · ").slice(0, 200)}
              </td>
              <td class="status" title={i.status}>{statusText(i.status)}</td>
              <td>{`${i.answer_count} of ${i.needed}`}</td>
              <td>{i.gold ? "gold" : ""}</td>
              {/* the schema's labels to read; the stored values in the tooltip */}
              <td class="label" title={i.consensus ? answerText(i.consensus.value) : undefined}>
                {i.consensus ? answerLabels(project.label_schema, i.consensus.value, i.data) : ""}
              </td>
              <td class="suspect">
                {i.label_issue && <>
                  <span class="notice">{labelIssueText(i.label_issue)}</span>
                  <span class="muted" title={i.label_issue.model_answer ? answerText(i.label_issue.model_answer.value) : undefined}>
                    {` · ${modelAnswerText(i.label_issue, project.label_schema, i.data)}`}
                  </span>
                </>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && (
        <button type="button" disabled={loading} onClick={() => void load(items[items.length - 1]!.id)}>Load more</button>
      )}
    </main>
  );
}
