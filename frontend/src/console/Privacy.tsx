/**
 * Personal data (docs/privacy.md, "On the platform"): the project's policy as a small form for
 * managers, what the scans found per kind, "Scan for personal data" (a background job followed
 * with a progress bar), and the reveal button that reviewers use on an item's page.
 *
 * Everything shown comes from the server as text: values of items are never in the summary, only
 * counts per kind; a revealed original is rendered as text like any item content.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { FieldSpec } from "../types";
import { active, JobFailure, useProjectJob } from "./jobs";

export interface PrivacySettings {
  enabled: boolean;
  kinds: string[];
  regions: string[];
  language: "auto" | "en" | "fr";
  annotators: "placeholders" | "masked" | "original";
  reveal: "reviewer" | "manager";
  scan_on_import: boolean;
  blur_faces: boolean;
}

export interface PrivacyView {
  settings: PrivacySettings;
  may_reveal: boolean;
  ner_available: boolean;
  summary: { by_kind: Record<string, number>; items_with_findings: number; items_scanned: number; items: number } | null;
}

export interface Revealed {
  item_id: number;
  data: Record<string, unknown>;
  fields: string[];
  legend: Record<string, string>;
}

// The server's kinds (labelloop.privacy.KINDS), in its order, with how the form names them.
const PATTERN_KINDS: [string, string][] = [
  ["iban", "IBAN"], ["fr_nir", "French NIR"], ["fr_siret", "SIRET"], ["fr_siren", "SIREN"], ["card", "Card number"],
  ["email", "E-mail"], ["us_ssn", "US SSN"], ["ipv6", "IPv6"], ["ipv4", "IPv4"], ["phone", "Phone"],
];
const NER_KINDS: [string, string][] = [["person", "Person"], ["organization", "Organisation"], ["location", "Place"]];

export function usePrivacy(projectId: number) {
  const [view, setView] = useState<PrivacyView | null>(null);
  const [error, setError] = useState("");
  const reload = () =>
    api<PrivacyView>("GET", `/api/projects/${projectId}/privacy`).then(setView).catch((e) => setError(errorText(e)));
  useEffect(() => {
    void reload();
  }, [projectId]);
  return { view, setView, error, reload };
}

function Findings({ summary }: { summary: NonNullable<PrivacyView["summary"]> }) {
  const kinds = Object.entries(summary.by_kind);
  return (
    <div class="privacy-findings">
      <p>{`${summary.items_scanned} of ${summary.items} items scanned under these settings; `
        + `${summary.items_with_findings} hold personal data.`}</p>
      {kinds.length > 0 && (
        <table aria-label="Personal data found per kind">
          <thead><tr><th scope="col">Kind</th><th scope="col">Found</th></tr></thead>
          <tbody>{kinds.map(([k, n]) => <tr><td>{k}</td><td class="num">{n}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

function ScanButton({ projectId, onFinished }: { projectId: number; onFinished: () => void }) {
  const { job, busy, error, start } = useProjectJob(
    projectId, "privacy_scan", `/api/projects/${projectId}/privacy/scan`, onFinished);
  const running = active(job);
  const total = job?.progress_total ?? 0;
  const done = Math.min(job?.progress_done ?? 0, total || Infinity);
  let status = "";
  if (running) status = job!.status === "queued" ? "Waiting to start…" : `${job!.message || "Scanning"}…`;
  else if (job?.status === "succeeded") {
    const r = job.result as { items?: number; findings?: number } | null;
    status = `Scan done: ${r?.items ?? 0} items read, ${r?.findings ?? 0} pieces of personal data found.`;
  }
  return (
    <div class="privacy-scan">
      <p class="buttons">
        <button type="button" onClick={start} aria-disabled={busy}>Scan for personal data</button>
      </p>
      <p role="status" class="privacy-scan-status">{status}</p>
      {running && total > 0 && (
        <progress max={total} value={done} aria-label="Scan progress">{`${done} of ${total} items`}</progress>
      )}
      {job?.status === "failed" && <JobFailure what="The scan" job={job} />}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

/** The policy form and the scan, for managers (the console's project page). */
export function PrivacyPanel({ projectId }: { projectId: number }) {
  const { view, setView, error, reload } = usePrivacy(projectId);
  const [draft, setDraft] = useState<PrivacySettings | null>(null);
  const [regions, setRegions] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    if (view) {
      setDraft(view.settings);
      setRegions(view.settings.regions.join(", "));
    }
  }, [view]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!view || !draft) return <p>Loading…</p>;
  const set = <K extends keyof PrivacySettings>(k: K, v: PrivacySettings[K]) => setDraft({ ...draft, [k]: v });
  const toggleKind = (kind: string, on: boolean) =>
    set("kinds", on ? [...draft.kinds, kind] : draft.kinds.filter((k) => k !== kind));
  const save = async (e: Event) => {
    e.preventDefault();
    const body = { ...draft, regions: regions.split(/[\s,]+/).filter(Boolean) };
    try {
      setView(await api<PrivacyView>("PATCH", `/api/projects/${projectId}/privacy`, body));
      setNote("Saved.");
    } catch (err) {
      setNote(errorText(err));
    }
  };
  const kinds = view.ner_available ? [...PATTERN_KINDS, ...NER_KINDS] : PATTERN_KINDS;
  return (
    <div class="privacy">
      <form onSubmit={save} class="privacy-form">
        <label class="check">
          <input type="checkbox" name="enabled" checked={draft.enabled}
            onChange={(e) => set("enabled", e.currentTarget.checked)} />
          Hide personal data from annotators
        </label>
        <label>Annotators see
          <select name="annotators" value={draft.annotators}
            onChange={(e) => set("annotators", e.currentTarget.value as PrivacySettings["annotators"])}>
            <option value="placeholders">placeholders ([PERSON_1])</option>
            <option value="masked">masked (••••)</option>
            <option value="original">the original</option>
          </select>
        </label>
        <label>Who may reveal an item
          <select name="reveal" value={draft.reveal}
            onChange={(e) => set("reveal", e.currentTarget.value as PrivacySettings["reveal"])}>
            <option value="reviewer">reviewers and managers</option>
            <option value="manager">managers only</option>
          </select>
        </label>
        <label>Language of names and places
          <select name="language" value={draft.language}
            onChange={(e) => set("language", e.currentTarget.value as PrivacySettings["language"])}>
            <option value="auto">guessed per item</option>
            <option value="en">English</option>
            <option value="fr">French</option>
          </select>
        </label>
        <label>Phone regions<input name="regions" value={regions} onInput={(e) => setRegions(e.currentTarget.value)} /></label>
        <fieldset>
          <legend>Detect</legend>
          {kinds.map(([k, label]) => (
            <label class="check">
              <input type="checkbox" name={`kind-${k}`} checked={draft.kinds.includes(k)}
                onChange={(e) => toggleKind(k, e.currentTarget.checked)} />
              {label}
            </label>
          ))}
        </fieldset>
        <label class="check">
          <input type="checkbox" name="scan_on_import" checked={draft.scan_on_import}
            onChange={(e) => set("scan_on_import", e.currentTarget.checked)} />
          Scan each import
        </label>
        <label class="check">
          <input type="checkbox" name="blur_faces" checked={draft.blur_faces}
            onChange={(e) => set("blur_faces", e.currentTarget.checked)} />
          Blur faces in the images annotators see
        </label>
        <button type="submit">Save privacy settings</button>
        <span role="status" class="privacy-note">{note}</span>
      </form>
      {view.summary && <Findings summary={view.summary} />}
      {view.settings.enabled && <ScanButton projectId={projectId} onFinished={() => void reload()} />}
    </div>
  );
}

/**
 * "Reveal personal data" on an item's page, for those the policy lets reveal: the original is
 * fetched (and logged by the server) only on a click, and handed to `onRevealed`.
 */
export function RevealButton(
  { projectId, itemId, onRevealed }: { projectId: number; itemId: number; onRevealed: (r: Revealed) => void },
) {
  const { view } = usePrivacy(projectId);
  const [error, setError] = useState("");
  if (!view || !view.settings.enabled || view.settings.annotators === "original" || !view.may_reveal) return null;
  const reveal = async () => {
    try {
      onRevealed(await api<Revealed>("POST", `/api/projects/${projectId}/items/${itemId}/reveal`));
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <p class="reveal">
      <button type="button" onClick={reveal}>Reveal personal data</button>
      <span class="hint"> (recorded in the audit log)</span>
      {error && <span class="error" role="alert">{` ${error}`}</span>}
    </p>
  );
}

/** The original of a revealed item: each field as plain text (item content is never markup), and
 * what each placeholder stands for. */
export function RevealedOriginal({ fields, revealed }: { fields: FieldSpec[]; revealed: Revealed }) {
  const legend = Object.entries(revealed.legend);
  return (
    <section class="panel revealed" aria-labelledby="revealed-h">
      <h2 id="revealed-h">Original (revealed)</h2>
      {fields.map((f) => {
        const v = revealed.data[f.name];
        if (v === undefined || v === null) return null;
        return (
          <div class="revealed-field">
            <h3>{f.label ?? f.name}</h3>
            <pre data-field={f.name}>{typeof v === "string" ? v : JSON.stringify(v, null, 2)}</pre>
          </div>
        );
      })}
      {legend.length > 0 && (
        <table aria-label="Placeholders">
          <thead><tr><th scope="col">Placeholder</th><th scope="col">Stands for</th></tr></thead>
          <tbody>{legend.map(([k, v]) => <tr><td>{k}</td><td>{v}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

/** The reveal button, then the revealed original, for one item (keyed by the item: a new item
 * starts hidden again). */
export function RevealSection({ projectId, itemId, fields }: { projectId: number; itemId: number; fields: FieldSpec[] }) {
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  return revealed ? <RevealedOriginal fields={fields} revealed={revealed} />
    : <RevealButton projectId={projectId} itemId={itemId} onRevealed={setRevealed} />;
}
