/**
 * The project's dataset releases in the data browser (docs/curation.md, "Versioned releases"):
 * each release with its size and state (standing, or withdrawn by an erasure and why), its card
 * (splits, how labels were decided, agreement, licences of the sources, media manifests), its files
 * to download (each verified by the server against its SHA-256), and the difference between two
 * releases. Managers only, as the endpoints. Releases are made with `labelloop dataset release` or
 * `POST /api/projects/{id}/releases`.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import "./curation.css";

interface Release {
  name: string;
  item_count: number;
  created_at: string;
  manifest_sha256: string;
  withdrawn_at: string | null;
  withdrawn_reason: string | null;
}
interface ReleaseFile { name: string; sha256: string; size: number }
interface AgreementRow {
  question: string; items: number; percent_agreement: number | null;
  alpha: number | null; alpha_low: number | null; alpha_high: number | null;
}
interface Card {
  items: number;
  splits: Record<string, number>;
  decided_by: Record<string, number>;
  share_labelled_by_models: number;
  agreement: { questions?: AgreementRow[] };
  annotators: { count: number };
  source_licenses?: Record<string, number>;
  media_manifests?: { described?: Record<string, number>; left_out?: Record<string, number> };
  known_issues: { label_error_flags: number };
}
interface Detail extends Release { card: Card; files: ReleaseFile[] }
interface Diff {
  from: string; to: string;
  counts: { added: number; removed: number; relabelled: number };
}

const num = (x: number | null | undefined, digits = 3): string => (x == null ? "n/a" : x.toFixed(digits));
const size = (bytes: number): string =>
  bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;

function Counts({ title, counts }: { title: string; counts: Record<string, number> }) {
  return (
    <table class="data" aria-label={title}>
      <thead><tr><th scope="col">{title}</th><th scope="col">Items</th></tr></thead>
      <tbody>{Object.entries(counts).map(([k, v]) => <tr><td>{k}</td><td>{v}</td></tr>)}</tbody>
    </table>
  );
}

function ReleaseCard({ projectId, detail }: { projectId: number; detail: Detail }) {
  const c = detail.card;
  const base = `/api/projects/${projectId}/releases/${encodeURIComponent(detail.name)}/files/`;
  const media = c.media_manifests?.described ?? {};
  return (
    <section class="release-card" aria-label={`release ${detail.name}`}>
      <h2>{`Release ${detail.name} · ${c.items} items`}</h2>
      <p>
        {`Labelled by models: ${(100 * c.share_labelled_by_models).toFixed(1)}% · `}
        {`${c.annotators.count} annotators (pseudonymous) · `}
        {`${c.known_issues.label_error_flags} open label-error flags`}
      </p>
      <div class="release-tables">
        <Counts title="Split" counts={c.splits} />
        <Counts title="Decided by" counts={c.decided_by} />
        {c.source_licenses && <Counts title="Licence of the source" counts={c.source_licenses} />}
        {Object.keys(media).length > 0 && <Counts title="Media manifest" counts={media} />}
      </div>
      {(c.agreement.questions ?? []).length > 0 && (
        <table class="data" aria-label="agreement">
          <thead><tr><th scope="col">Question</th><th scope="col">Items</th><th scope="col">Agreement</th><th scope="col">Alpha (95% interval)</th></tr></thead>
          <tbody>
            {(c.agreement.questions ?? []).map((q) => (
              <tr><td>{q.question}</td><td>{q.items}</td><td>{num(q.percent_agreement)}</td>
                <td>{`${num(q.alpha)} (${num(q.alpha_low)} to ${num(q.alpha_high)})`}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <table class="data" aria-label="files">
        <thead><tr><th scope="col">File</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>
        <tbody>
          {detail.files.map((f) => (
            <tr data-file={f.name}>
              <td><a href={base + encodeURIComponent(f.name)} download={f.name}>{f.name}</a></td>
              <td>{size(f.size)}</td>
              <td><code>{f.sha256.slice(0, 16)}…</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Releases({ projectId }: { projectId: number }) {
  const [list, setList] = useState<Release[] | null>(null);
  const [open, setOpen] = useState<Detail | null>(null);
  const [pair, setPair] = useState<{ from: string; to: string }>({ from: "", to: "" });
  const [diff, setDiff] = useState<Diff | null>(null);
  const [note, setNote] = useState("");

  useEffect(() => {
    api<Release[]>("GET", `/api/projects/${projectId}/releases`)
      .then((r) => {
        setList(r);
        const standing = r.filter((x) => !x.withdrawn_at);
        if (standing.length >= 2) {
          setPair({ from: standing[standing.length - 2].name, to: standing[standing.length - 1].name });
        }
      })
      .catch((e) => setNote(errorText(e)));
  }, [projectId]);

  const show = async (name: string) => {
    setNote("");
    try {
      setOpen(await api<Detail>("GET", `/api/projects/${projectId}/releases/${encodeURIComponent(name)}`));
    } catch (e) {
      setNote(errorText(e));
    }
  };
  const compare = async () => {
    setNote("");
    try {
      const q = new URLSearchParams({ from: pair.from, to: pair.to, limit: "0" });
      setDiff(await api<Diff>("GET", `/api/projects/${projectId}/releases/diff?${q}`));
    } catch (e) {
      setNote(errorText(e));
    }
  };

  if (list === null) return <p role="status">{note || "Loading releases…"}</p>;
  if (list.length === 0) {
    return <p class="empty">No release yet: <code>labelloop dataset release PROJECT --name v1</code> makes one.</p>;
  }
  const standing = list.filter((r) => !r.withdrawn_at).map((r) => r.name);
  return (
    <div class="releases">
      <table class="data" aria-label="releases">
        <thead><tr><th scope="col">Release</th><th scope="col">Items</th><th scope="col">Made</th><th scope="col">State</th></tr></thead>
        <tbody>
          {list.map((r) => (
            <tr data-release={r.name}>
              <td>{r.withdrawn_at ? r.name
                : <button type="button" class="link" onClick={() => void show(r.name)}>{r.name}</button>}</td>
              <td>{r.item_count}</td>
              <td>{new Date(r.created_at).toLocaleString()}</td>
              <td class="state">{r.withdrawn_at ? `withdrawn (${r.withdrawn_reason ?? "erasure"})` : "standing"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {standing.length >= 2 && (
        <form class="release-diff" onSubmit={(e) => { e.preventDefault(); void compare(); }}>
          <label>From <select value={pair.from} onChange={(e) => setPair({ ...pair, from: e.currentTarget.value })}>
            {standing.map((n) => <option value={n}>{n}</option>)}</select></label>
          <label>To <select value={pair.to} onChange={(e) => setPair({ ...pair, to: e.currentTarget.value })}>
            {standing.map((n) => <option value={n}>{n}</option>)}</select></label>
          <button type="submit">Compare</button>
          {diff && (
            <output aria-label="difference">
              {`${diff.from} → ${diff.to}: ${diff.counts.added} added, ${diff.counts.removed} removed, `}
              {`${diff.counts.relabelled} relabelled`}
            </output>
          )}
        </form>
      )}
      {note && <p role="alert">{note}</p>}
      {open && <ReleaseCard projectId={projectId} detail={open} />}
    </div>
  );
}
