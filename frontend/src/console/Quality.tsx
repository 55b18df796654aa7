/** The quality summary on a project's console: how sure the consensus is, and what waits for review. */

import type { QualityReport } from "../types";

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
export const num = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));

/** `target`: the project's target confidence (quality settings), which "confident enough" means. */
export function QualitySummary({ projectId, report, target }: { projectId: number; report: QualityReport; target: number }) {
  const pending = report.review.pending;
  return (
    <div class="grid" data-testid="quality-summary">
      <p class="stat"><span class="n" data-stat="mean_confidence">{pct(report.consensus.mean_confidence)}</span>mean consensus confidence</p>
      <p class="stat">
        <span class="n" data-stat="share_confident">{pct(report.consensus.share_confident)}</span>
        {`of items at or above the ${pct(target)} target confidence`}
      </p>
      <p class="stat">
        <span class="n" data-stat="disputed">{pending}</span>
        {pending ? <a href={`#/p/${projectId}/review`}>disputed items, awaiting review</a> : "disputed items, awaiting review"}
      </p>
      <p class="stat"><span class="n">{report.review.decided}</span>decided by a reviewer</p>
      <p class="stat"><span class="n" data-stat="paused">{report.paused_annotators}</span>paused annotators</p>
    </div>
  );
}

/**
 * The console's quality panel: the summary and the way to the quality page. The console loads
 * the report with the progress (Manage.tsx), so the two never disagree.
 */
export function Quality({ projectId, report, error, target }: {
  projectId: number; report: QualityReport | null; error: string; target: number;
}) {
  if (error) return <p class="muted">Quality is not available: {error}</p>;
  if (!report) return <p>Loading quality…</p>;
  return (
    <div>
      <QualitySummary projectId={projectId} report={report} target={target} />
      <p class="buttons">
        <a class="button" href={`#/p/${projectId}/quality`}>Quality details and annotators</a>
        <a class="button" href={`#/p/${projectId}/review`}>Review queue</a>
      </p>
    </div>
  );
}
