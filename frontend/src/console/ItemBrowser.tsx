/**
 * Browse a project's items, filtered on the server (text, annotator, consensus label,
 * metadata, review, status, suspected by the model, a saved slice) and paged by id (keyset). The
 * filters live in the URL, so a reload or a shared link shows the same items. Beside the list:
 * search by meaning (items like one item, or like a text), the duplicate groups and the embedding
 * map, whose lasso filters the list to the items it holds (docs/curation.md).
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerLabels, answerText, labelIssueText, modelAnswerText, statusText, valueText } from "../format";
import { isStored, Thumbs } from "../media";
import { title } from "../questions/kind";
import { routeQuery, setRouteQuery } from "../router";
import type { FoundItem, Item, Member, Project, Slice } from "../types";
import { Duplicates } from "./Duplicates";
import { EmbeddingMap } from "./EmbeddingMap";
import { Releases } from "./Releases";
import { SliceTools } from "./SliceTools";
import "./curation.css";

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
  slice: string; // a saved slice's id
}
const KEYS: (keyof Filters)[] = ["q", "status", "review", "annotator", "label", "meta", "label_issue", "slice"];
type View = "list" | "duplicates" | "map" | "releases";
const VIEWS: { value: View; text: string }[] = [
  { value: "list", text: "List" }, { value: "duplicates", text: "Duplicates" }, { value: "map", text: "Map" },
  { value: "releases", text: "Releases" }];
const FOUND = 20; // items found by meaning

function fromUrl(): Filters {
  const p = routeQuery();
  const f = {} as Filters;
  for (const k of KEYS) f[k] = p.get(k) ?? "";
  return f;
}

/** Where the page is besides its filters: the view, and a search by meaning. */
interface Place { view: View; like: string; semantic: string }

function placeFromUrl(): Place {
  const p = routeQuery();
  const view = p.get("view");
  return { view: view === "duplicates" || view === "map" || view === "releases" ? view : "list", like: p.get("like") ?? "",
    semantic: p.get("semantic") ?? "" };
}

/** The filter object of GET .../items and of slices (without `slice`), from the query. */
function filterObject(f: Filters, ids: number[] | null): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(queryOf(f));
  delete out.slice;
  if (ids) out.ids = ids;
  return out;
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
  const [place, setPlace] = useState<Place>(placeFromUrl);
  // Items picked on the map: too many for a URL, so they stay in the page (and can become a slice).
  const [ids, setIds] = useState<number[] | null>(null);
  const [items, setItems] = useState<Item[]>([]);
  // What was found, and for which search: a result is shown only beside the search it answers.
  const [found, setFound] = useState<{ key: string; items: FoundItem[] } | null>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [project, setProject] = useState<Project | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [slices, setSlices] = useState<Slice[]>([]);
  const [error, setError] = useState("");
  const request = useRef(0); // answers to superseded requests are dropped

  const loadSlices = () =>
    api<Slice[]>("GET", `/api/projects/${projectId}/slices`).then(setSlices).catch(() => undefined);
  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
    api<Member[]>("GET", `/api/projects/${projectId}/members`).then(setMembers).catch(() => undefined);
    void loadSlices();
  }, [projectId]);

  const searching = place.like !== "" || place.semantic.trim() !== "";
  const searchKey = place.like ? `like:${place.like}` : `q:${place.semantic.trim()}`;
  const load = async (after: number) => {
    const n = ++request.current;
    setLoading(true);
    try {
      let page: Item[];
      if (ids) {
        page = await api<Item[]>("POST", `/api/projects/${projectId}/slices/preview`,
          { filter: filterObject(filters, ids), after, limit: PAGE });
      } else {
        const q = queryOf(filters);
        q.set("after", String(after));
        q.set("limit", String(PAGE));
        page = await api<Item[]>("GET", `/api/projects/${projectId}/items?${q}`);
      }
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
  const search = async () => {
    const n = ++request.current;
    setLoading(true);
    const key = searchKey;
    const q = new URLSearchParams({ k: String(FOUND) });
    if (place.like) q.set("like", place.like);
    else q.set("q", place.semantic.trim());
    try {
      const got = await api<FoundItem[]>("GET", `/api/projects/${projectId}/search?${q}`);
      if (n !== request.current) return;
      setFound({ key, items: got });
      setError("");
    } catch (e) {
      if (n === request.current) {
        setFound({ key, items: [] });
        setError(errorText(e));
      }
    } finally {
      if (n === request.current) setLoading(false);
    }
  };
  useEffect(() => {
    const q = queryOf(filters);
    if (place.view !== "list") q.set("view", place.view);
    if (place.like) q.set("like", place.like);
    else if (place.semantic.trim()) q.set("semantic", place.semantic.trim());
    setRouteQuery(q);
    if (place.view !== "list") return;
    request.current++; // what is in flight answers the old filters
    setLoading(true);
    if (!searching) setFound(null);
    const timer = setTimeout(() => void (searching ? search() : load(0)), TYPING_MS);
    return () => clearTimeout(timer);
  }, [projectId, filters, place, ids]);

  const set = (k: keyof Filters) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    if (k === "slice") setIds(null); // a slice or a map selection, not both
    setFilters({ ...filters, [k]: value });
  };
  const show = (view: View) => setPlace({ ...place, view });
  const manager = project !== null && (project.role === null || project.role === "manager" || project.role === "owner");
  const metaBad = filters.meta.trim() !== "" && !metaOk(filters.meta);
  const count = `${items.length} matching item${items.length === 1 ? "" : "s"}${more ? " shown; more to load" : ""}`;
  const chosenSlice = slices.find((s) => String(s.id) === filters.slice) ?? null;
  return (
    <main class="items">
      <div class="bar">
        <h1>Items</h1>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
      </div>
      <nav class="views" aria-label="views of the items">
        {VIEWS.filter((v) => v.value === "list" || manager).map((v) => (
          <a href={`#/p/${projectId}/items${v.value === "list" ? "" : `?view=${v.value}`}`}
            aria-current={place.view === v.value ? "page" : undefined}
            onClick={(e) => { e.preventDefault(); show(v.value); }}>{v.text}</a>
        ))}
      </nav>
      {place.view === "duplicates" && <Duplicates projectId={projectId} />}
      {place.view === "releases" && <Releases projectId={projectId} />}
      {place.view === "map" && (
        <EmbeddingMap projectId={projectId}
          onShow={(picked) => {
            setLoading(true); // no count of the old list while the selection loads
            setIds(picked);
            setFilters({ ...filters, slice: "" });
            setPlace({ view: "list", like: "", semantic: "" });
          }}
          onSaved={(s) => {
            setLoading(true);
            void loadSlices();
            setIds(null);
            setFilters({ ...fromEmpty(), slice: String(s.id) });
            setPlace({ view: "list", like: "", semantic: "" });
          }} />
      )}
      {place.view === "list" && <>
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
        <label>Slice
          <select name="slice" value={filters.slice} onChange={set("slice")}>
            <option value="">none</option>
            {slices.map((s) => <option value={String(s.id)}>{s.name}</option>)}
            {filters.slice && !chosenSlice && <option value={filters.slice}>{`slice ${filters.slice}`}</option>}
          </select>
        </label>
        <label>Like (by meaning)
          <input type="search" name="semantic" value={place.semantic} placeholder="words, a sentence"
            onInput={(e) => setPlace({ ...place, like: "", semantic: (e.currentTarget as HTMLInputElement).value })} />
        </label>
      </form>
      <p id="meta-hint" class={metaBad ? "notice" : "muted"}>
        {metaBad ? "Write the metadata filter as key:value (e.g. lang:fr)." : "Metadata: key:value, e.g. lang:fr."}
      </p>
      {ids && (
        <p class="notice" role="status">
          {`Only the ${ids.length} item${ids.length === 1 ? "" : "s"} selected on the map. `}
          <button type="button" onClick={() => setIds(null)}>Show every item</button>
        </p>
      )}
      {manager && !searching && (
        <SliceTools projectId={projectId} chosen={chosenSlice} filter={filters.slice ? null : filterObject(filters, ids)}
          onSaved={(s) => { void loadSlices(); setIds(null); setFilters({ ...fromEmpty(), slice: String(s.id) }); }}
          onDeleted={() => { void loadSlices(); setFilters({ ...filters, slice: "" }); }}
          onPriority={() => void load(0)} />
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {searching ? (
        <FoundList projectId={projectId} found={found?.key === searchKey ? found.items : null} loading={loading}
          place={place}
          onLike={(id) => setPlace({ ...place, like: String(id), semantic: "" })}
          onBack={() => setPlace({ ...place, like: "", semantic: "" })} />
      ) : <>
      {/* rows wait for the schema too: they show its labels, not the stored values */}
      <p class="muted" role="status" aria-busy={loading || !project}>{loading || !project ? "Searching…" : count}</p>
      <table class="data">
        <thead>
          <tr><th scope="col">Id</th><th scope="col">Content</th><th scope="col">Status</th><th scope="col">Answers</th><th scope="col">Gold</th><th scope="col">Label</th><th scope="col">Suspected label</th></tr>
        </thead>
        <tbody>
          {project && items.map((i) => (
            <tr data-item={i.id}>
              <td>
                <a href={`#/p/${projectId}/items/${i.id}`}>{i.external_id}</a>
                {" "}
                <button type="button" class="small" aria-label={`Items like ${i.external_id}`}
                  onClick={() => setPlace({ ...place, like: String(i.id), semantic: "" })}>Similar</button>
              </td>
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
      </>}
      </>}
    </main>
  );
}

function fromEmpty(): Filters {
  const f = {} as Filters;
  for (const k of KEYS) f[k] = "";
  return f;
}

/** Items found by meaning: like one item (itself first), or like the words typed. */
function FoundList({ projectId, found, loading, place, onLike, onBack }: {
  projectId: number; found: FoundItem[] | null; loading: boolean; place: Place;
  onLike: (id: number) => void; onBack: () => void;
}) {
  const what = place.like ? `item ${place.like}` : `“${place.semantic.trim()}”`;
  return (
    <section class="found" aria-label="items found by meaning">
      <p class="muted" role="status" aria-busy={loading}>
        {loading || !found ? "Searching…" : `${found.length} item${found.length === 1 ? "" : "s"} like ${what}`}
        {" "}
        <button type="button" onClick={onBack}>Back to the list</button>
      </p>
      <table class="data">
        <thead><tr><th scope="col">Id</th><th scope="col">Similarity</th><th scope="col">Content</th></tr></thead>
        <tbody>
          {(found ?? []).map((f) => (
            <tr data-item={f.item_id}>
              <td>
                <a href={`#/p/${projectId}/items/${f.item_id}`}>{f.external_id}</a>
                {" "}
                <button type="button" class="small" aria-label={`Items like ${f.external_id}`}
                  onClick={() => onLike(f.item_id)}>Similar</button>
              </td>
              <td class="similarity">{f.similarity.toFixed(3)}</td>
              <td>{f.preview}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
