/** A manager's console for one project: progress, quality, the loop, data, settings, members, export. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { Project, QualityReport, Status, StoredAnswer, User } from "../types";
import { BarChart, StackedBar } from "./charts";
import { perHour, recentAnswers } from "./data";
import { Export } from "./Export";
import { GenerationPanel, generates } from "./GenerationSettings";
import { Members } from "./Members";
import { PrivacyPanel } from "./Privacy";
import { Quality } from "./Quality";
import { Upload } from "./Upload";

function Settings({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [overlap, setOverlap] = useState(project.overlap);
  const [lease, setLease] = useState(project.lease_seconds);
  const [description, setDescription] = useState(project.description);
  const [note, setNote] = useState("");
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      onSaved(await api<Project>("PATCH", `/api/projects/${project.id}`, { overlap, lease_seconds: lease, description }));
      setNote("Saved.");
    } catch (err) {
      setNote(errorText(err));
    }
  };
  return (
    <form onSubmit={save} class="filters">
      <label>Answers per item (overlap)<input type="number" min="1" max="100" value={overlap}
        onInput={(e) => setOverlap(Number(e.currentTarget.value))} /></label>
      <label>Lease (seconds)<input type="number" min="1" value={lease}
        onInput={(e) => setLease(Number(e.currentTarget.value))} /></label>
      <label>Description<input value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
      <button type="submit">Save settings</button>
      <span role="status">{note}</span>
    </form>
  );
}

const POLL_MS = 3000;
/**
 * The status is cheap and polled; the quality report (agreement with bootstrap intervals over
 * every answer) and the recent answers are not, so they are reloaded when the status changed, and
 * every FULL_EVERY polls anyway: a reviewer's decision or a pause changes them, not the status.
 */
const FULL_EVERY = 10;

/** What the console shows live (progress, quality, throughput), loaded together by one timer. */
function useLive(projectId: number) {
  const [status, setStatus] = useState<Status | null>(null);
  const [report, setReport] = useState<QualityReport | null>(null);
  const [qualityError, setQualityError] = useState("");
  const [answers, setAnswers] = useState<StoredAnswer[]>([]);
  const [error, setError] = useState("");
  const seen = useRef({ status: "", polls: 0 });
  const refresh = async (all: boolean) => {
    const s = await api<Status>("GET", `/api/projects/${projectId}/status`);
    setStatus(s);
    const key = JSON.stringify(s);
    if (!all && key === seen.current.status && ++seen.current.polls % FULL_EVERY) return;
    seen.current = { status: key, polls: 0 };
    await Promise.all([
      api<QualityReport>("GET", `/api/projects/${projectId}/quality`)
        .then((r) => {
          setReport(r);
          setQualityError("");
        })
        .catch((e) => setQualityError(errorText(e))),
      recentAnswers(projectId).then(setAnswers).catch(() => undefined),
    ]);
  };
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The next poll is timed from the end of this one, so a slow report never piles up requests.
    const poll = async (first: boolean) => {
      try {
        await refresh(first);
      } catch (e) {
        if (first) setError(errorText(e));
      }
      if (!stopped) timer = setTimeout(() => void poll(false), POLL_MS);
    };
    void poll(true);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [projectId]);
  return { status, report, qualityError, answers, error, refresh: () => refresh(true).catch(() => undefined) };
}

export function Manage({ me, projectId }: { me: User; projectId: number }) {
  const [project, setProject] = useState<Project | null>(null);
  const [projectError, setProjectError] = useState("");
  const live = useLive(projectId);
  const { status, answers } = live;
  useEffect(() => {
    api<Project>("GET", `/api/projects/${projectId}`).then(setProject).catch((e) => setProjectError(errorText(e)));
  }, [projectId]);
  const error = projectError || live.error;
  if (error) return <main><p class="error" role="alert">{error}</p></main>;
  if (!project) return <main><p>Loading…</p></main>;
  const throughput = perHour(answers);
  return (
    <main class="manage">
      <div class="bar">
        <h1>{project.name}</h1>
        <a class="button" href={`#/p/${projectId}/items`}>Browse items</a>
        <a class="button" href={`#/p/${projectId}/quality`}>Quality</a>
        <a class="button" href={`#/p/${projectId}/loop`}>Learning loop</a>
        <a class="button" href={`#/p/${projectId}/audit`}>Audit log</a>
        <a class="button" href={`#/p/${projectId}/review`}>Review</a>
        {project.role && <a class="button" href={`#/p/${projectId}/label`}>Label</a>}
      </div>

      <section class="panel" aria-labelledby="progress-h">
        <h2 id="progress-h">Progress</h2>
        {status && (
          <>
            <div class="grid" data-testid="progress">
              <p class="stat"><span class="n" data-stat="done">{status.done}</span>done</p>
              <p class="stat"><span class="n" data-stat="in_progress">{status.in_progress}</span>in progress</p>
              <p class="stat"><span class="n" data-stat="untouched">{status.untouched}</span>not started</p>
              <p class="stat"><span class="n" data-stat="items">{status.items}</span>items</p>
              <p class="stat"><span class="n">{status.answers}</span>answers of {status.answers_needed}</p>
              <p class="stat"><span class="n">{status.annotators}</span>annotators</p>
            </div>
            {!status.items && <p class="muted" data-testid="no-items">No items yet: add data below.</p>}
            <StackedBar title={status.items ? `${status.percent_done.toFixed(0)}% done` : "no items yet"} parts={[
              { label: "done", value: status.done, cls: "seg-done" },
              { label: "in progress", value: status.in_progress, cls: "seg-progress" },
              { label: "not started", value: status.untouched, cls: "seg-open" },
            ]} />
          </>
        )}
        {throughput.length > 0 && (
          <BarChart title="Answers per hour" bars={throughput} maxBarWidth={36}
            caption={`Answers per hour, the last ${throughput.length} hours up to the newest answer`} />
        )}
      </section>

      <section class="panel" aria-labelledby="quality-h">
        <h2 id="quality-h">Quality</h2>
        <Quality projectId={projectId} report={live.report} error={live.qualityError}
          target={project.quality.target_confidence} />
      </section>

      <section class="panel" aria-labelledby="data-h">
        <h2 id="data-h">Add data</h2>
        <Upload projectId={projectId} onDone={live.refresh} />
      </section>

      {generates(project) && (
        <section class="panel" aria-labelledby="generation-h">
          <h2 id="generation-h">Candidates from your model</h2>
          <GenerationPanel key={project.id} project={project} />
        </section>
      )}

      <section class="panel" aria-labelledby="export-h">
        <h2 id="export-h">Export</h2>
        <Export project={project} />
      </section>

      <section class="panel" aria-labelledby="settings-h">
        <h2 id="settings-h">Settings</h2>
        <Settings project={project} onSaved={setProject} />
      </section>

      <section class="panel" aria-labelledby="privacy-h">
        <h2 id="privacy-h">Personal data</h2>
        <PrivacyPanel projectId={projectId} />
        <p class="buttons">
          <a class="button" href={`#/p/${projectId}/protection`}>Retention and erasure</a>
        </p>
      </section>

      <section class="panel" aria-labelledby="members-h">
        <h2 id="members-h">Members</h2>
        <Members me={me} projectId={projectId} />
      </section>
    </main>
  );
}
