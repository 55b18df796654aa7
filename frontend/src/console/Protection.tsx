/**
 * Retention and erasure (docs/data-protection.md), for a project's managers and admins
 * (`#/p/{id}/protection`): how long items' raw content is kept, a run of the retention now, and
 * the erasure of items, a source file, an annotator's work or a data subject (GDPR article 17).
 *
 * Nothing is deleted on one click: each deletion is first previewed (a dry run: what would go,
 * in counts), then needs the project's name typed, the way a repository is deleted on a forge.
 * The answer names the audit log's entry that records it (the tombstone). Everything shown comes
 * from the server as text: external ids and file names are the importer's strings, never markup.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { Member, Project } from "../types";

interface RetentionView {
  days: number | null;
  items: number;
  deleted: number;
  due: number;
}

interface RetentionRun {
  dry_run: boolean;
  items: number;
  files: number;
  audit_seq: number | null;
}

interface Erasure {
  kind: string;
  dry_run: boolean;
  item_ids: number[];
  external_ids: string[];
  answers: number;
  files: number;
  jobs_scrubbed: number;
  audit_seq: number | null;
}

interface Source {
  import_job_id: number;
  file: string;
  items: number;
  created_at: string;
}

type Kind = "items" | "source" | "annotator" | "subject";
const KINDS: [Kind, string][] = [
  ["subject", "A data subject (everything that mentions them)"],
  ["items", "Items, by id"],
  ["source", "A source file (everything one import wrote)"],
  ["annotator", "An annotator's work"],
];
const SHOWN_IDS = 20;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a retention setting means, in words. */
export function retentionText(days: number | null): string {
  if (days === null) return "Items' raw content is kept until someone erases it.";
  return `Each item's raw content (its text and files) is deleted ${plural(days, "day")} after its import. `
    + "Its labels stay: answers, gold, consensus, predictions and the audit log.";
}

/** The typed confirmation: the project's name, exactly. */
function Confirm({ name, value, onInput }: { name: string; value: string; onInput: (v: string) => void }) {
  return (
    <label class="confirm">
      {`Type the project's name, ${name}, to confirm`}
      <input type="text" name="confirm" autocomplete="off" spellcheck={false} value={value}
        onInput={(e) => onInput(e.currentTarget.value)} />
    </label>
  );
}

function AuditLink({ projectId, seq, action }: { projectId: number; seq: number | null; action: string }) {
  if (seq === null) return null;
  return (
    <>
      {" Recorded in the audit log as entry "}
      <a class="audit-entry" href={`#/p/${projectId}/audit?action=${action}`}>{`#${seq}`}</a>.
    </>
  );
}

function Retention({ projectId, project }: { projectId: number; project: Project }) {
  const [view, setView] = useState<RetentionView | null>(null);
  const [days, setDays] = useState("");
  const [preview, setPreview] = useState<RetentionRun | null>(null);
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const load = () =>
    api<RetentionView>("GET", `/api/projects/${projectId}/retention`)
      .then((v) => {
        setView(v);
        setDays(v.days === null ? "" : String(v.days));
      })
      .catch((e) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [projectId]);
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError("");
    setNote("");
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const save = (value: number | null) => act(async () => {
    await api("PUT", `/api/projects/${projectId}/retention`, { days: value });
    setPreview(null);
    await load();
    setNote(value === null ? "Retention cleared: content is kept." : "Retention saved.");
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const n = Number(days);
    if (!days.trim() || !Number.isInteger(n) || n < 1) {
      setError("Days: a whole number, 1 or more (or clear the retention).");
      return;
    }
    void save(n);
  };
  const previewRun = () => act(async () => {
    setConfirm("");
    setPreview(await api<RetentionRun>("POST", `/api/projects/${projectId}/retention/run`, { dry_run: true }));
  });
  const run = () => act(async () => {
    const done = await api<RetentionRun>("POST", `/api/projects/${projectId}/retention/run`, { dry_run: false });
    setPreview(null);
    setConfirm("");
    await load();
    setNote(`Deleted the content of ${plural(done.items, "item")} and ${plural(done.files, "file")}.`
      + (done.audit_seq !== null ? ` Recorded in the audit log as entry #${done.audit_seq}.` : ""));
  });
  if (!view) return error ? <p class="error" role="alert">{error}</p> : <p>Loading…</p>;
  return (
    <div class="retention">
      <p class="retention-meaning">{retentionText(view.days)}</p>
      <p class="muted retention-counts">
        {`${plural(view.items, "item")}; content already deleted for ${view.deleted}`
          + (view.days !== null ? `; due now: ${view.due}.` : ".")}
      </p>
      <form class="retention-form" onSubmit={submit}>
        <label>Delete raw content after (days)
          <input type="number" name="days" min={1} max={36500} step={1} value={days}
            onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <p class="buttons">
          <button type="submit" disabled={busy}>Save retention</button>
          {view.days !== null && (
            <button type="button" disabled={busy} onClick={() => void save(null)}>Keep content (clear)</button>
          )}
        </p>
      </form>
      {view.days !== null && (
        <div class="retention-run">
          <p class="buttons">
            <button type="button" disabled={busy} onClick={() => void previewRun()}>Run retention now…</button>
          </p>
          {preview && (
            <div class="preview" role="region" aria-label="retention preview">
              <p class="preview-counts">
                {preview.items === 0
                  ? "Nothing is due: no item is older than the retention."
                  : `The content of ${plural(preview.items, "item")} will be deleted, with the files only they show.`}
              </p>
              {preview.items > 0 && (
                <>
                  <Confirm name={project.name} value={confirm} onInput={setConfirm} />
                  <p class="buttons">
                    <button type="button" class="danger" disabled={busy || confirm !== project.name}
                      onClick={() => void run()}>Delete content now</button>
                  </p>
                </>
              )}
            </div>
          )}
        </div>
      )}
      <p role="status" class="note">{note}</p>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

interface Request {
  items?: number[];
  import_job_id?: number;
  annotator_id?: number;
  subject?: string[];
}

function Erase({ projectId, project }: { projectId: number; project: Project }) {
  const [kind, setKind] = useState<Kind>("subject");
  const [subject, setSubject] = useState("");
  const [itemIds, setItemIds] = useState("");
  const [jobId, setJobId] = useState("");
  const [annotator, setAnnotator] = useState("");
  const [imports, setImports] = useState<Source[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [preview, setPreview] = useState<{ request: Request; plan: Erasure } | null>(null);
  const [confirm, setConfirm] = useState("");
  const [done, setDone] = useState<Erasure | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const loadChoices = () => {
    api<Source[]>("GET", `/api/projects/${projectId}/erasure/sources`).then(setImports).catch((e) => setError(errorText(e)));
    api<Member[]>("GET", `/api/projects/${projectId}/members`).then(setMembers).catch((e) => setError(errorText(e)));
  };
  useEffect(loadChoices, [projectId]);
  // A preview is of one request: changing the request asks for a new one.
  const changed = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setPreview(null);
    setConfirm("");
  };

  const request = (): Request | string => {
    if (kind === "subject") {
      const ids = subject.split("\n").map((s) => s.trim()).filter(Boolean);
      return ids.length ? { subject: ids } : "Name the data subject: an e-mail address, a name, an id (one a line).";
    }
    if (kind === "items") {
      const ids = itemIds.split(/[\s,]+/).filter(Boolean);
      if (!ids.length || ids.some((s) => !/^\d+$/.test(s))) return "Item ids: whole numbers, separated by commas or spaces.";
      return { items: ids.map(Number) };
    }
    if (kind === "source") return jobId ? { import_job_id: Number(jobId) } : "Choose the import to erase.";
    return annotator ? { annotator_id: Number(annotator) } : "Choose the annotator whose work to erase.";
  };
  const ask = async (body: Request, dry: boolean) => {
    setBusy(true);
    setError("");
    try {
      return await api<Erasure>("POST", `/api/projects/${projectId}/erasure`, { ...body, dry_run: dry });
    } catch (e) {
      setError(errorText(e));
      return null;
    } finally {
      setBusy(false);
    }
  };
  const previewErasure = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    const body = request();
    if (typeof body === "string") {
      setError(body);
      return;
    }
    const plan = await ask(body, true);
    setConfirm("");
    setPreview(plan && { request: body, plan });
  };
  const erase = async () => {
    if (!preview) return;
    const result = await ask(preview.request, false);
    if (!result) return;
    setDone(result);
    setPreview(null);
    setConfirm("");
    setSubject("");
    loadChoices();
  };
  const plan = preview?.plan;
  const nothing = plan !== undefined && plan.item_ids.length === 0 && plan.answers === 0;
  return (
    <div class="erasure">
      <form class="erasure-form" onSubmit={(e) => void previewErasure(e)}>
        <fieldset>
          <legend>What to erase</legend>
          {KINDS.map(([k, text]) => (
            <label class="check">
              <input type="radio" name="kind" value={k} checked={kind === k}
                onChange={() => changed(setKind)(k)} />
              {text}
            </label>
          ))}
        </fieldset>
        {kind === "subject" && (
          <label>Identifiers of the data subject (one a line, at least 3 characters)
            <textarea name="subject" rows={3} value={subject} onInput={(e) => changed(setSubject)(e.currentTarget.value)} />
          </label>
        )}
        {kind === "items" && (
          <label>Item ids
            <input type="text" name="items" value={itemIds} placeholder="e.g. 12, 15"
              onInput={(e) => changed(setItemIds)(e.currentTarget.value)} />
          </label>
        )}
        {kind === "source" && (
          <label>Import
            <select name="import" value={jobId} onChange={(e) => changed(setJobId)(e.currentTarget.value)}>
              <option value="">choose…</option>
              {imports.map((s) => (
                <option value={String(s.import_job_id)}>
                  {`${s.file || "(no name)"}: ${plural(s.items, "item")}, job ${s.import_job_id}, ${new Date(s.created_at).toLocaleString()}`}
                </option>
              ))}
            </select>
          </label>
        )}
        {kind === "annotator" && (
          <label>Annotator
            <select name="annotator" value={annotator} onChange={(e) => changed(setAnnotator)(e.currentTarget.value)}>
              <option value="">choose…</option>
              {members.map((m) => <option value={String(m.user_id)}>{`${m.username} (${m.role})`}</option>)}
            </select>
          </label>
        )}
        <p class="buttons"><button type="submit" disabled={busy}>Preview erasure</button></p>
      </form>
      {plan && (
        <div class="preview" role="region" aria-label="erasure preview">
          <p class="preview-counts">
            {nothing
              ? "Nothing matches: there is nothing to erase."
              : `Will erase ${plural(plan.item_ids.length, "item")} and ${plural(plan.answers, "answer")}`
                + (plan.kind === "annotator" ? " (the items stay; their consensus is computed again)." : ", with their files, predictions and findings.")}
          </p>
          {plan.external_ids.length > 0 && (
            <ul class="preview-ids" aria-label="items to erase">
              {plan.external_ids.slice(0, SHOWN_IDS).map((x) => <li>{x}</li>)}
              {plan.external_ids.length > SHOWN_IDS && <li class="muted">{`and ${plan.external_ids.length - SHOWN_IDS} more`}</li>}
            </ul>
          )}
          {!nothing && (
            <>
              <Confirm name={project.name} value={confirm} onInput={setConfirm} />
              <p class="buttons">
                <button type="button" class="danger" disabled={busy || confirm !== project.name}
                  onClick={() => void erase()}>Erase for good</button>
              </p>
            </>
          )}
        </div>
      )}
      {busy && <p class="muted" role="status" aria-busy="true">Working…</p>}
      {done && (
        <p role="status" class="erasure-result">
          {`Erased ${plural(done.item_ids.length, "item")}, ${plural(done.answers, "answer")} and ${plural(done.files, "file")}`
            + (done.jobs_scrubbed ? `; ${plural(done.jobs_scrubbed, "job record")} scrubbed.` : ".")}
          <AuditLink projectId={projectId} seq={done.audit_seq} action="erasure" />
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

export function Protection({ projectId }: { projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
  }, [projectId]);
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!project) return <main><p>Loading…</p></main>;
  return (
    <main class="manage protection">
      <div class="bar">
        <h1>Retention and erasure</h1>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
        <a class="button" href={`#/p/${projectId}/audit`}>Audit log</a>
      </div>
      <section class="panel" aria-labelledby="retention-h">
        <h2 id="retention-h">Retention</h2>
        <Retention projectId={projectId} project={project} />
      </section>
      <section class="panel" aria-labelledby="erasure-h">
        <h2 id="erasure-h">Erasure</h2>
        <p class="muted">
          The right to erasure (GDPR article 17): the rows, files, predictions and caches go; the audit
          log keeps a tombstone with counts, never the erased content nor what was searched for.
        </p>
        <Erase projectId={projectId} project={project} />
      </section>
    </main>
  );
}
