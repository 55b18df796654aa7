/**
 * A project's quality, for managers: agreement per question, how sure the consensus is, each
 * annotator's gold accuracy (with its credible interval), speed and volume; pauses, a recompute,
 * the quality settings, and on projects with a preference question the models' leaderboard.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { title } from "../questions/kind";
import type { AnnotatorQuality, Job, Project, QualityReport } from "../types";
import { Annotators, seconds } from "./Annotators";
import { BarChart, DotWhisker, Scatter } from "./charts";
import { Leaderboard } from "./Leaderboard";
import { num, pct, QualitySummary } from "./Quality";
import { QualitySettingsForm } from "./QualitySettings";
import { TranscriptAgreement, TranscriptCharts, werText } from "./Transcripts";

/** A question's label from the schema (its name when it has none, or is no longer in it). */
function questionTitle(project: Project, name: string): string {
  const q = project.label_schema.questions.find((x) => x.name === name);
  return q ? title(q) : name;
}

function Agreement({ report, project, projectId }: { report: QualityReport; project: Project; projectId: number }) {
  const rated = report.questions.filter((q) => q.alpha !== null);
  const named = (q: { question: string }) => questionTitle(project, q.question);
  const low = Math.min(0, ...rated.map((q) => q.alpha_low ?? q.alpha ?? 0));
  const tau = report.questions.some((q) => q.type === "ranking");
  const spans = report.questions.some((q) => q.type === "response_spans");
  // Transcript questions (the server sends them a list of worst items): WER, and segments' F1 and IoU.
  const spoken = report.questions.some((q) => Array.isArray(q.worst_items));
  const segments = report.questions.some((q) => Array.isArray(q.worst_items) && q.type === "audio_segments");
  return (
    <>
      <table class="data">
        <caption>Agreement per question</caption>
        <thead>
          <tr><th scope="col">Question</th><th scope="col">Items with 2+ answers</th><th scope="col">Agreement</th>
            <th scope="col">Krippendorff α (95% interval)</th><th scope="col">Fleiss κ</th>
            {tau && <th scope="col">Kendall τ</th>}{spans && <th scope="col">Span F1</th>}
            {spoken && <th scope="col">WER between annotators</th>}
            {segments && <><th scope="col">Segment F1</th><th scope="col">Segment IoU</th></>}</tr>
        </thead>
        <tbody>
          {report.questions.map((q) => (
            <tr>
              <th scope="row" title={q.question}>{named(q)}</th><td>{q.items}</td><td>{pct(q.percent_agreement)}</td>
              <td>{num(q.alpha)}{q.alpha_low !== null ? ` (${num(q.alpha_low)} – ${num(q.alpha_high)})` : ""}</td>
              <td>{num(q.fleiss_kappa)}</td>
              {tau && <td data-col="kendall_tau">{num(q.kendall_tau)}</td>}
              {spans && <td data-col="span_f1">{num(q.span_f1)}</td>}
              {spoken && (
                <td data-col="wer" title={q.item_wer === null || q.item_wer === undefined ? undefined
                  : `pooled over every pair of annotators; mean over items ${werText(q.item_wer)}`}>{werText(q.wer)}</td>
              )}
              {segments && <><td data-col="segment_f1">{num(q.segment_f1)}</td><td data-col="segment_iou">{num(q.segment_iou)}</td></>}
            </tr>
          ))}
        </tbody>
      </table>
      <TranscriptAgreement report={report} project={project} projectId={projectId} />
      {rated.length > 0 && (
        <DotWhisker title="Krippendorff's alpha per question" domain={[Math.max(-1, Math.floor(low * 4) / 4), 1]}
          format={(x) => x.toFixed(2)} threshold={{ value: 0.667, label: "0.667: tentative" }}
          caption="Krippendorff's alpha per question, with its 95% bootstrap interval (0.8 and up: reliable)"
          rows={rated.map((q) => ({
            label: named(q), value: q.alpha, low: q.alpha_low, high: q.alpha_high,
            note: `${named(q)}: alpha ${num(q.alpha)}${q.alpha_low !== null ? `, 95% interval ${num(q.alpha_low)} to ${num(q.alpha_high)}` : ""} over ${q.items} items`,
          }))} />
      )}
    </>
  );
}

function Confidence({ report, reviewBelow }: { report: QualityReport; reviewBelow: number }) {
  if (!report.consensus.items) return <p class="muted">No item has a consensus yet.</p>;
  const band = (h: { low: number; high: number }) => `${Math.round(h.low * 100)}–${Math.round(h.high * 100)}%`;
  return (
    <BarChart title="Consensus confidence: items per band"
      caption={`Items per band of consensus confidence (${report.consensus.items} items; bands below ${pct(reviewBelow)} go to review)`}
      bars={report.consensus.histogram.map((h) => ({
        label: band(h), value: h.items, note: `${h.items} items between ${band(h)} confidence`,
        cls: h.high <= reviewBelow ? "unsure" : "",
      }))} />
  );
}

function AnnotatorCharts({ people, project }: { people: AnnotatorQuality[]; project: Project }) {
  const withGold = people.filter((u) => u.gold_answered > 0);
  const timed = people.filter((u) => u.median_duration_ms !== null);
  const bar = project.quality.trust_min_accuracy;
  return (
    <div class="charts">
      {withGold.length > 0 ? (
        <DotWhisker title="Gold accuracy per annotator" domain={[0, 1]} format={(x) => pct(x)}
          threshold={bar === null ? null : { value: bar, label: `pause bar ${pct(bar)}` }}
          caption="Gold accuracy per annotator: the dot is the estimate, the whisker its 95% credible interval"
          rows={withGold.map((u) => ({
            label: u.username, value: u.gold_accuracy, low: u.gold_accuracy_low, high: u.gold_accuracy_high,
            cls: u.paused ? "paused" : "",
            note: `${u.username}: gold accuracy ${pct(u.gold_accuracy)} (95% interval ${pct(u.gold_accuracy_low)} to ${pct(u.gold_accuracy_high)}), ${u.gold_correct} of ${u.gold_answered} gold answers right${u.paused ? ", paused" : ""}`,
          }))} />
      ) : (
        <p class="muted">No annotator has answered a gold item yet.</p>
      )}
      {timed.length > 0 && (
        <Scatter title="Speed and volume per annotator" xLabel="answers" yLabel="median seconds per answer"
          caption="Speed and volume: answers given against the median time per answer (flagged: much faster than peers)"
          points={timed.map((u) => ({
            label: u.username, x: u.answers, y: (u.median_duration_ms ?? 0) / 1000,
            cls: [u.flags.includes("too_fast") ? "flagged" : "", u.paused ? "paused" : ""].join(" "),
            note: `${u.username}: ${u.answers} answers, median ${seconds(u.median_duration_ms)} per answer${u.flags.length ? `, flagged: ${u.flags.join(", ")}` : ""}`,
          }))} />
      )}
      <TranscriptCharts people={people} project={project} />
    </div>
  );
}

export function QualityPage({ projectId }: { projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [report, setReport] = useState<QualityReport | null>(null);
  const [people, setPeople] = useState<AnnotatorQuality[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState("");
  const [loads, setLoads] = useState(0); // the leaderboard reads answers again after a pause or a recompute
  const load = () => {
    setLoads((n) => n + 1);
    api<QualityReport>("GET", `/api/projects/${projectId}/quality`).then(setReport).catch((e) => setError(errorText(e)));
    api<AnnotatorQuality[]>("GET", `/api/projects/${projectId}/quality/annotators`).then(setPeople).catch((e) => setError(errorText(e)));
  };
  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setError(errorText(e)));
    load();
  }, [projectId]);
  const recompute = async () => {
    setBusy(true);
    setNote("Recomputing the consensus of every item…");
    try {
      const job = await api<Job>("POST", `/api/projects/${projectId}/quality/recompute?wait=true`);
      setNote(job.status === "failed" ? `The recompute failed: ${job.error?.message ?? ""}` : "Recomputed.");
      load();
    } catch (e) {
      setNote(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!project || !report) return <main><p>Loading…</p></main>;
  return (
    <main class="quality">
      <div class="bar">
        <h1>{`Quality: ${project.name}`}</h1>
        <button type="button" onClick={recompute} disabled={busy}>Recompute consensus</button>
        <a class="button" href={`#/p/${projectId}/manage`}>Back to the project</a>
      </div>
      <p class="message" role="status">{note}</p>
      <QualitySummary projectId={projectId} report={report} target={project.quality.target_confidence} />

      <section class="panel" aria-labelledby="agreement-h">
        <h2 id="agreement-h">Agreement</h2>
        <Agreement report={report} project={project} projectId={projectId} />
      </section>

      <Leaderboard projectId={projectId} project={project} reload={loads} />

      <section class="panel" aria-labelledby="confidence-h">
        <h2 id="confidence-h">Consensus confidence</h2>
        <Confidence report={report} reviewBelow={project.quality.review_below} />
      </section>

      <section class="panel" aria-labelledby="annotators-h">
        <h2 id="annotators-h">Annotators</h2>
        {people.length ? (
          <>
            <AnnotatorCharts people={people} project={project} />
            <Annotators projectId={projectId} people={people} onChange={load} project={project} />
          </>
        ) : <p class="muted">Nobody has answered yet.</p>}
      </section>

      <section class="panel" aria-labelledby="quality-settings-h">
        <h2 id="quality-settings-h">Quality settings</h2>
        <QualitySettingsForm project={project} onSaved={setProject} />
      </section>
    </main>
  );
}
