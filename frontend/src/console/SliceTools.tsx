/**
 * What a manager does with slices in the data browser: save the filters shown (with the items
 * picked on the map) under a name, and for the slice chosen, raise or lower its items' queue
 * priority, or delete it. Reviewers see and choose slices; only managers get these tools.
 */

import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { Slice } from "../types";

export function SliceTools({ projectId, chosen, filter, onSaved, onDeleted, onPriority }: {
  projectId: number;
  /** The slice the browser shows, if any. */
  chosen: Slice | null;
  /** The filter object to save (null while a slice is chosen: it is saved already). */
  filter: Record<string, unknown> | null;
  onSaved: (s: Slice) => void;
  onDeleted: () => void;
  onPriority: () => void;
}) {
  const [name, setName] = useState("");
  const [priority, setPriority] = useState("1");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    try {
      setNote(await what());
    } catch (e) {
      setNote(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const s = await api<Slice>("POST", `/api/projects/${projectId}/slices`, { name: name.trim(), filter });
      setName("");
      onSaved(s);
      return `Saved the slice ${s.name}.`;
    });
  };
  const prioritise = (mode: "set" | "add") => void run(async () => {
    const r = await api<{ updated: number }>("POST", `/api/projects/${projectId}/slices/${chosen!.id}/priority`,
      { priority: Number(priority), mode });
    onPriority();
    return mode === "set" ? `${r.updated} items now have queue priority ${Number(priority)}.`
      : `${r.updated} items moved by ${Number(priority)} in the queue.`;
  });
  const remove = () => void run(async () => {
    await api("DELETE", `/api/projects/${projectId}/slices/${chosen!.id}`);
    onDeleted();
    return `Deleted the slice ${chosen!.name}; its items are as they were.`;
  });

  return (
    <div class="slice-tools">
      {filter && (
        <form class="inline" onSubmit={save} aria-label="save as a slice">
          <label>New slice name <input name="new-slice" value={name} required maxLength={100}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={busy}>Save these filters as a slice</button>
        </form>
      )}
      {chosen && (
        <form class="inline" onSubmit={(e) => { e.preventDefault(); prioritise("set"); }} aria-label="the chosen slice">
          <label>Queue priority <input name="priority" type="number" step="any" value={priority} required
            onInput={(e) => setPriority((e.currentTarget as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={busy}>Set for the slice</button>
          <button type="button" disabled={busy} onClick={() => prioritise("add")}>Add to the slice's priorities</button>
          <button type="button" disabled={busy} onClick={remove}>Delete the slice</button>
        </form>
      )}
      {note && <p class="muted" role="status">{note}</p>}
    </div>
  );
}
