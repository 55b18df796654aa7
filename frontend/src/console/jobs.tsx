/**
 * What the console's job buttons share (a loop round, a pre-label run): start a project's job,
 * follow it to its end by polling, pick up one of the same kind already running (another tab,
 * before a reload), and say why it failed.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, transient } from "../api";
import type { Job } from "../types";

const POLL_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const active = (j: Job | null) => j !== null && (j.status === "queued" || j.status === "running");

/**
 * The project's job of this `kind`, started by `start()` with a POST to `path`, followed until it
 * ends (then `onFinished`). `busy` while starting or following; `error` when the job could not be
 * started or followed (a job that failed is `job.status === "failed"`, with its own error).
 */
export function useProjectJob(projectId: number, kind: string, path: string, onFinished: () => void) {
  const [job, setJob] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const alive = useRef(true);

  const follow = async (start: Job) => {
    let j = start;
    setJob(j);
    while (alive.current && active(j)) {
      await sleep(POLL_MS);
      try {
        j = await api<Job>("GET", `/api/jobs/${j.id}`);
      } catch (e) {
        if (transient(e)) continue; // the server is busy or away: keep asking
        throw e;
      }
      if (alive.current) setJob(j);
    }
    if (alive.current) onFinished();
  };

  const run = async (first: () => Promise<Job | null>) => {
    setBusy(true);
    try {
      const j = await first();
      if (j) await follow(j);
    } catch (e) {
      if (alive.current) setError(errorText(e));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  useEffect(() => {
    alive.current = true;
    // A job started earlier (another tab, before a reload) is followed like a new one.
    void run(async () => {
      const jobs = await api<Job[]>("GET", `/api/projects/${projectId}/jobs`).catch(() => [] as Job[]);
      return jobs.find((j) => j.kind === kind && active(j)) ?? null;
    });
    return () => {
      alive.current = false;
    };
  }, [projectId, kind]);

  const start = () => {
    if (busy) return; // the buttons are aria-disabled rather than disabled, so they keep the focus
    setError("");
    void run(() => api<Job>("POST", path));
  };

  return { job, busy, error, start };
}

/** Why a job failed: its message and the first of its problems, each with its field. */
export function JobFailure({ what, job }: { what: string; job: Job }) {
  return (
    <div class="problems" role="alert">
      <p>{`${what} failed: ${job.error?.message ?? "no reason given"}`}</p>
      {job.error?.problems?.length ? (
        <ul>{job.error.problems.slice(0, 10).map((p) => <li>{p.field ? `${p.field}: ${p.message}` : p.message}</li>)}</ul>
      ) : null}
    </div>
  );
}
