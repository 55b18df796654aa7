/** The quality summary on a project's console: how sure the consensus is, and what waits for review. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { QualityReport } from "../types";

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
export const num = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));

export function QualitySummary({ projectId, report }: { projectId: number; report: QualityReport }) {
  const pending = report.review.pending;
  return (
    <div class="grid" data-testid="quality-summary">
      <p class="stat"><span class="n">{pct(report.consensus.mean_confidence)}</span>mean consensus confidence</p>
      <p class="stat"><span class="n">{pct(report.consensus.share_confident)}</span>items confident enough</p>
      <p class="stat">
        <span class="n" data-stat="disputed">{pending}</span>
        {pending ? <a href={`#/p/${projectId}/review`}>disputed items, awaiting review</a> : "disputed items, awaiting review"}
      </p>
      <p class="stat"><span class="n">{report.review.decided}</span>decided by a reviewer</p>
      <p class="stat"><span class="n" data-stat="paused">{report.paused_annotators}</span>paused annotators</p>
    </div>
  );
}

/** The console's quality panel: the summary, refreshed with the progress, and the way to the quality page. */
export function Quality({ projectId, tick }: { projectId: number; tick: number }) {
  const [report, setReport] = useState<QualityReport | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api<QualityReport>("GET", `/api/projects/${projectId}/quality`)
      .then((r) => {
        setReport(r);
        setError("");
      })
      .catch((e) => setError(errorText(e)));
  }, [projectId, tick]);
  if (error) return <p class="muted">Quality is not available: {error}</p>;
  if (!report) return <p>Loading quality…</p>;
  return (
    <div>
      <QualitySummary projectId={projectId} report={report} />
      <p class="buttons">
        <a class="button" href={`#/p/${projectId}/quality`}>Quality details and annotators</a>
        <a class="button" href={`#/p/${projectId}/review`}>Review queue</a>
      </p>
    </div>
  );
}
