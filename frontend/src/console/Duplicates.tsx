/**
 * Duplicate groups in the data browser (docs/curation.md, "Duplicates"): find them by one method
 * (a job), list the groups with their items, keep one item of a group (the others leave the queue),
 * put a group back, or send a whole group to review. Managers only, as the endpoints.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { DuplicateGroup, Job } from "../types";
import "./curation.css";

const METHODS = [
  { value: "text", text: "near-duplicate texts" },
  { value: "exact", text: "exact copies" },
  { value: "image", text: "near-duplicate images" },
  { value: "semantic", text: "same meaning (the loop's embeddings)" },
];
const PAGE = 50;

function Group({ projectId, group, onChange }: {
  projectId: number; group: DuplicateGroup; onChange: (note: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    try {
      onChange(await what());
    } catch (e) {
      onChange(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const base = `/api/projects/${projectId}/duplicates/${group.group_id}/keep`;
  const keep = (itemId: number, ext: string) => act(async () => {
    await api("POST", base, { item_id: itemId, method: group.method });
    return `Kept ${ext}; the other items of group ${group.group_id} left the queue.`;
  });
  const restore = () => act(async () => {
    const r = await api<{ restored: number[] }>("DELETE", `${base}?method=${group.method}`);
    return `Put ${r.restored.length} item${r.restored.length === 1 ? "" : "s"} of group ${group.group_id} back in the queue.`;
  });
  const review = () => act(async () => {
    for (const i of group.items) await api("POST", `/api/projects/${projectId}/items/${i.item_id}/flag`);
    return `Sent the ${group.items.length} items of group ${group.group_id} to review.`;
  });
  const aside = group.items.some((i) => i.set_aside);
  return (
    <section class="dup-group" data-group={group.group_id} aria-label={`group ${group.group_id}`}>
      <h2>{`Group ${group.group_id} · ${group.items.length} items`}</h2>
      <table class="data">
        <thead><tr><th scope="col">Id</th><th scope="col">Similarity</th><th scope="col">Content</th><th scope="col">Queue</th><th scope="col"><span class="visually-hidden">Keep</span></th></tr></thead>
        <tbody>
          {group.items.map((i) => (
            <tr data-item={i.item_id} class={i.set_aside ? "set-aside" : undefined}>
              <td><a href={`#/p/${projectId}/items/${i.item_id}`}>{i.external_id}</a></td>
              <td>{i.score.toFixed(3)}</td>
              <td>{i.preview}</td>
              <td class="queue">{i.set_aside ? "set aside" : "in the queue"}</td>
              <td><button type="button" disabled={busy} onClick={() => void keep(i.item_id, i.external_id)}
                aria-label={`Keep ${i.external_id}`}>Keep this one</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        {aside && <button type="button" disabled={busy} onClick={() => void restore()}>Restore the group</button>}
        <button type="button" disabled={busy} onClick={() => void review()}>Send the group to review</button>
      </div>
    </section>
  );
}

export function Duplicates({ projectId }: { projectId: number }) {
  const [method, setMethod] = useState("text");
  const [groups, setGroups] = useState<DuplicateGroup[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [running, setRunning] = useState(false);
  const [note, setNote] = useState("");
  const [error, setError] = useState("");

  const load = async (after: number) => {
    setLoading(true);
    try {
      const page = await api<DuplicateGroup[]>(
        "GET", `/api/projects/${projectId}/duplicates?method=${method}&after=${after}&limit=${PAGE}`);
      setGroups((old) => (after ? [...old, ...page] : page));
      setMore(page.length === PAGE);
      setError("");
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(0), [projectId, method]);

  const find = async () => {
    setRunning(true);
    setNote("");
    try {
      const job = await api<Job>("POST", `/api/projects/${projectId}/duplicates?wait=true`, { methods: [method] });
      const found = (job.result as Record<string, { groups?: number; skipped?: unknown }> | null)?.[method];
      setNote(job.status !== "succeeded" ? `The job ${job.status}.`
        : typeof found?.skipped === "string" ? `Skipped: ${found.skipped}.`
        : `Found ${found?.groups ?? 0} group${found?.groups === 1 ? "" : "s"}.`);
      await load(0);
    } catch (e) {
      setNote(errorText(e));
    } finally {
      setRunning(false);
    }
  };
  const changed = (text: string) => {
    setNote(text);
    void load(0);
  };

  return (
    <section class="duplicates" aria-label="duplicate groups">
      <div class="filters">
        <label>Method
          <select name="method" value={method} onChange={(e) => setMethod((e.currentTarget as HTMLSelectElement).value)}>
            {METHODS.map((m) => <option value={m.value}>{m.text}</option>)}
          </select>
        </label>
        <button type="button" disabled={running} onClick={() => void find()}>{running ? "Finding…" : "Find duplicates"}</button>
      </div>
      {note && <p class="notice" role="status">{note}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted" aria-busy={loading}>
        {loading ? "Loading groups…" : `${groups.length} group${groups.length === 1 ? "" : "s"}${more ? " shown; more to load" : ""}`}
      </p>
      {groups.map((g) => <Group key={`${g.method}-${g.group_id}`} projectId={projectId} group={g} onChange={changed} />)}
      {more && <button type="button" disabled={loading} onClick={() => void load(groups[groups.length - 1]!.group_id)}>Load more</button>}
    </section>
  );
}
