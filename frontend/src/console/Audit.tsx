/**
 * The audit log (docs/audit.md): who did what, filtered on the server (actor, action, dates,
 * object) and paged newest first by sequence, with whether the hash chain still holds. Admins
 * see every entry (`#/audit`); a project's managers its entries (`#/p/{id}/audit`). The filters
 * live in the URL, like the data browser's. Every value is shown as text: usernames, object ids
 * and details come from users and items, never markup.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { routeQuery, setRouteQuery } from "../router";

const PAGE = 100;
const TYPING_MS = 250;

interface Entry {
  seq: number;
  at: string;
  actor_id: number | null;
  actor_name: string;
  action: string;
  project_id: number | null;
  object_type: string | null;
  object_id: string | null;
  details: Record<string, unknown>;
  hash: string;
}

interface Verified {
  ok: boolean;
  entries: number;
  head_seq: number;
  first_break: number | null;
  problems: { seq: number; kind: string; message: string }[];
  truncated_list: boolean;
}

interface Filters {
  actor: string;
  action: string;
  from: string; // a date (yyyy-mm-dd), local
  to: string; // a date, inclusive
  object_type: string;
  object_id: string;
}
const KEYS: (keyof Filters)[] = ["actor", "action", "from", "to", "object_type", "object_id"];

/** The families of actions the services record, for the action filter. */
const ACTIONS: [string, string][] = [
  ["sign_in", "sign-ins (and failures)"], ["sign_out", "sign-outs"], ["task.serve", "tasks served"],
  ["item.view", "items opened"], ["blob.serve", "files served"], ["answer", "answers and revisions"],
  ["review", "reviews"], ["export", "exports"], ["project", "project changes"], ["member", "members"],
  ["annotator", "pauses"], ["generation", "generation settings"], ["token", "API tokens"],
  ["user", "accounts"], ["password", "password changes"], ["import", "imports"],
  ["retention", "retention"], ["erasure", "erasures"],
];

function fromUrl(): Filters {
  const p = routeQuery();
  const f = {} as Filters;
  for (const k of KEYS) f[k] = p.get(k) ?? "";
  return f;
}

/** A local date's start as an instant the server reads (with its zone). */
function dayStart(date: string, plusDays = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

function serverQuery(f: Filters, projectId: number | null): URLSearchParams {
  const q = new URLSearchParams();
  if (projectId !== null) q.set("project", String(projectId));
  if (f.actor.trim()) q.set("actor", f.actor.trim());
  if (f.action) q.set("action", f.action);
  const since = dayStart(f.from);
  const until = dayStart(f.to, 1);
  if (since) q.set("since", since);
  if (until) q.set("until", until);
  if (f.object_type.trim()) q.set("object_type", f.object_type.trim());
  if (f.object_id.trim()) q.set("object_id", f.object_id.trim());
  return q;
}

function urlQuery(f: Filters): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of KEYS) if (f[k].trim()) q.set(k, f[k].trim());
  return q;
}

function detailsText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("; ");
}

function VerifyStatus({ projectId }: { projectId: number | null }) {
  const [state, setState] = useState<Verified | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const check = async () => {
    setBusy(true);
    try {
      const q = projectId !== null ? `?project=${projectId}` : "";
      setState(await api<Verified>("GET", `/api/audit/verify${q}`));
      setError("");
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void check(), [projectId]);
  return (
    <section class="panel audit-verify" aria-labelledby="verify-h">
      <h2 id="verify-h">Integrity</h2>
      <p role="status" aria-busy={busy} class={state && !state.ok ? "error" : undefined}>
        {busy && !state ? "Checking the chain…"
          : state?.ok ? `The chain holds: ${state.entries} entries, each hash checked (head: entry ${state.head_seq}).`
          : state ? `The chain is broken at entry ${state.first_break}: ${state.problems.length}${state.truncated_list ? "+" : ""} problem${state.problems.length === 1 ? "" : "s"} found.`
          : ""}
      </p>
      {state && !state.ok && (
        <ul class="audit-problems">
          {state.problems.map((p) => <li>{`entry ${p.seq}: ${p.kind}: ${p.message}`}</li>)}
        </ul>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <button type="button" onClick={() => void check()} aria-disabled={busy}>Check again</button>
    </section>
  );
}

export function Audit({ projectId }: { projectId: number | null }) {
  const [filters, setFilters] = useState<Filters>(fromUrl);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState("");
  const request = useRef(0); // answers to superseded requests are dropped

  const load = async (before: number | null) => {
    const n = ++request.current;
    const q = serverQuery(filters, projectId);
    q.set("limit", String(PAGE));
    if (before !== null) q.set("before", String(before));
    setLoading(true);
    try {
      const page = await api<{ entries: Entry[]; next_before: number | null }>("GET", `/api/audit?${q}`);
      if (n !== request.current) return;
      setEntries((old) => (before !== null ? [...old, ...page.entries] : page.entries));
      setNext(page.next_before);
      setError("");
    } catch (e) {
      if (n === request.current) setError(errorText(e));
    } finally {
      if (n === request.current) setLoading(false);
    }
  };
  useEffect(() => {
    setRouteQuery(urlQuery(filters));
    request.current++;
    setLoading(true);
    const timer = setTimeout(() => void load(null), TYPING_MS);
    return () => clearTimeout(timer);
  }, [projectId, filters]);

  const set = (k: keyof Filters) => (e: Event) =>
    setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const count = `${entries.length} entr${entries.length === 1 ? "y" : "ies"}${next !== null ? " shown; older ones to load" : ""}`;
  return (
    <main class="items audit">
      <div class="bar">
        <h1>Audit log</h1>
        {projectId !== null && <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>}
      </div>
      <VerifyStatus projectId={projectId} />
      <form class="filters" role="search" aria-label="filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <label>Who
          <input type="search" name="actor" value={filters.actor} onInput={set("actor")} placeholder="username" />
        </label>
        <label>Action
          <select name="action" value={filters.action} onChange={set("action")}>
            <option value="">any</option>
            {ACTIONS.map(([value, text]) => <option value={value}>{text}</option>)}
          </select>
        </label>
        <label>From
          <input type="date" name="from" value={filters.from} onInput={set("from")} />
        </label>
        <label>To
          <input type="date" name="to" value={filters.to} onInput={set("to")} />
        </label>
        <label>Object
          <select name="object_type" value={filters.object_type} onChange={set("object_type")}>
            <option value="">any</option>
            {["item", "blob", "project", "user", "token"].map((t) => <option value={t}>{t}</option>)}
          </select>
        </label>
        <label>Object id
          <input type="search" name="object_id" value={filters.object_id} onInput={set("object_id")} placeholder="e.g. 42" />
        </label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted" role="status" aria-busy={loading}>{loading ? "Searching…" : count}</p>
      <table class="data audit-entries">
        <thead>
          <tr>
            <th scope="col">#</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th>
            {projectId === null && <th scope="col">Project</th>}
            <th scope="col">Object</th><th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr data-seq={e.seq}>
              <td title={`hash ${e.hash}`}>{e.seq}</td>
              <td title={e.at}>{new Date(e.at).toLocaleString()}</td>
              <td class="actor">{e.actor_name}</td>
              <td class="action">{e.action}</td>
              {projectId === null && <td>{e.project_id ?? ""}</td>}
              <td class="object">{e.object_type ? `${e.object_type} ${e.object_id ?? ""}` : ""}</td>
              <td class="details">{detailsText(e.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && (
        <button type="button" disabled={loading} onClick={() => void load(next)}>Load older</button>
      )}
    </main>
  );
}
