/** Quality as the quality service reports it: agreement, consensus confidence, annotators. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { BarChart } from "./charts";

interface QuestionAgreement {
  question: string;
  type: string;
  items: number;
  percent_agreement: number | null;
  alpha: number | null;
  alpha_low: number | null;
  alpha_high: number | null;
}

interface Report {
  questions: QuestionAgreement[];
  consensus: { items: number; mean_confidence: number | null; share_confident: number | null;
    histogram: { low: number; high: number; items: number }[] };
  review: { pending: number; decided: number };
  paused_annotators: number;
}

interface AnnotatorRow {
  user_id: number;
  username: string;
  answers: number;
  median_duration_ms: number | null;
  gold_answered: number;
  gold_accuracy: number | null;
  agreement_with_consensus: number | null;
  paused: boolean;
  flags: string[];
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
const num = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));

export function Quality({ projectId }: { projectId: number }) {
  const [report, setReport] = useState<Report | null>(null);
  const [people, setPeople] = useState<AnnotatorRow[]>([]);
  const [error, setError] = useState("");
  const load = () => {
    api<Report>("GET", `/api/projects/${projectId}/quality`).then(setReport).catch((e) => setError(errorText(e)));
    api<AnnotatorRow[]>("GET", `/api/projects/${projectId}/quality/annotators`).then(setPeople).catch(() => undefined);
  };
  useEffect(load, [projectId]);
  const pause = (u: AnnotatorRow) =>
    api("PUT", `/api/projects/${projectId}/annotators/${u.user_id}/pause`, { paused: !u.paused, reason: "from the console" })
      .then(load).catch((e) => setError(errorText(e)));
  if (error) return <p class="muted">Quality is not available: {error}</p>;
  if (!report) return <p>Loading quality…</p>;
  return (
    <div>
      <div class="grid">
        <p class="stat"><span class="n">{pct(report.consensus.mean_confidence)}</span>mean consensus confidence</p>
        <p class="stat"><span class="n">{pct(report.consensus.share_confident)}</span>items confident enough</p>
        <p class="stat"><span class="n">{report.review.pending}</span>disputed, awaiting review</p>
        <p class="stat"><span class="n">{report.paused_annotators}</span>paused annotators</p>
      </div>
      <table class="data">
        <caption>Agreement per question</caption>
        <thead><tr><th scope="col">Question</th><th scope="col">Items with 2+ answers</th><th scope="col">Agreement</th><th scope="col">Krippendorff α (95% interval)</th></tr></thead>
        <tbody>
          {report.questions.map((q) => (
            <tr><td>{q.question}</td><td>{q.items}</td><td>{pct(q.percent_agreement)}</td>
              <td>{num(q.alpha)}{q.alpha_low !== null ? ` (${num(q.alpha_low)}–${num(q.alpha_high)})` : ""}</td></tr>
          ))}
        </tbody>
      </table>
      {report.consensus.items > 0 && (
        <BarChart title="Consensus confidence (items per band)"
          bars={report.consensus.histogram.map((h) => ({ label: `${Math.round(h.low * 100)}%`, value: h.items }))} />
      )}
      {people.length > 0 && (
        <table class="data">
          <caption>Annotators</caption>
          <thead><tr><th scope="col">Annotator</th><th scope="col">Answers</th><th scope="col">Median time</th><th scope="col">Gold accuracy</th><th scope="col">Agrees with consensus</th><th scope="col">Flags</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {people.map((u) => (
              <tr>
                <td>{u.username}</td><td>{u.answers}</td>
                <td>{u.median_duration_ms === null ? "–" : `${(u.median_duration_ms / 1000).toFixed(1)} s`}</td>
                <td>{u.gold_answered ? `${pct(u.gold_accuracy)} of ${u.gold_answered}` : "–"}</td>
                <td>{pct(u.agreement_with_consensus)}</td>
                <td>{u.flags.join(", ")}</td>
                <td><button type="button" class="link" onClick={() => pause(u)}>{u.paused ? "paused: resume" : "pause"}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
