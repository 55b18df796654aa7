/**
 * Candidates from the team's own model (docs/feedback.md, "Generation"), for managers of projects
 * with a `responses` field: the model server's settings, checked by the server (only the changed
 * keys are sent; an emptied one is sent as null, which resets it to its default; a 422's problems,
 * `generation.<key>`, are shown under their own setting), and "Generate candidates", a background
 * job followed with a progress bar like a loop round (LoopRun.tsx).
 *
 * The API key is never typed here: the settings name the server's environment variable that holds
 * it, and the server only says whether that variable is set.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, transient } from "../api";
import { useSettingsForm } from "./settingsForm";
import type { GenerationSettings, Job, Project } from "../types";

type Key = Exclude<keyof GenerationSettings, "endpoint" | "api_key_set">;

interface Setting {
  key: Key;
  label: string;
  /** `text`: empty is null (the default); `long`: the same in a text area; `field`: a schema field. */
  kind: "text" | "long" | "int" | "number" | "field";
  help: string;
  min?: number;
  max?: number;
  /** For `field`: the field types it may name. */
  types?: string[];
}

// The same keys, ranges and meanings as the server's GenerationSettings (services/generation/settings.py).
const SETTINGS: Setting[] = [
  {
    key: "base_url", label: "Model server URL", kind: "text",
    help: "An OpenAI-compatible server (vLLM, llama.cpp, TGI, Ollama): http(s)://host:port, with or without /v1; "
      + "requests go to <URL>/v1/chat/completions. Empty: generation is off.",
  },
  { key: "model", label: "Model", kind: "text", help: "The model the server is asked for (“model” in each request)." },
  {
    key: "api_key_env", label: "Environment variable holding the API key", kind: "text",
    help: "The name of a variable of the labelloop server’s environment, ending in _API_KEY (VLLM_API_KEY), "
      + "sent as “Authorization: Bearer”. The key itself is never stored or shown. Empty: no key is sent.",
  },
  { key: "candidates", label: "Candidates per item (K)", kind: "int", min: 1, max: 16,
    help: "Each item’s responses are filled up to this many; items that hold as many are never asked again." },
  { key: "temperature", label: "Temperature", kind: "number", min: 0, max: 2, help: "Sampling temperature, 0 to 2." },
  { key: "top_p", label: "Top p", kind: "number", min: 0, max: 1, help: "Nucleus sampling mass: above 0, at most 1." },
  { key: "max_tokens", label: "Most tokens per candidate", kind: "int", min: 1, max: 1_000_000,
    help: "max_tokens in each request." },
  {
    key: "system_prompt", label: "System prompt", kind: "long",
    help: "Sent first as a system message, unless the conversation starts with one. Empty: none.",
  },
  {
    key: "prompt_field", label: "Prompt field", kind: "field", types: ["text", "conversation"],
    help: "The text (one user message) or conversation (as it is, minus assistant turns at its end) the model is asked.",
  },
  { key: "responses_field", label: "Responses field", kind: "field", types: ["responses"],
    help: "The responses field the new candidates are added to." },
  {
    key: "requests_per_second", label: "Rate limit (requests per second)", kind: "number", min: 0, max: 10_000,
    help: "Over all requests of a job, retries included. Empty: no limit.",
  },
  { key: "concurrency", label: "Requests in flight at once", kind: "int", min: 1, max: 64, help: "1 to 64." },
  { key: "timeout_s", label: "Timeout of a request (seconds)", kind: "number", min: 0.1, max: 3600,
    help: "A request that takes longer is retried." },
  {
    key: "max_retries", label: "Retries of a request", kind: "int", min: 0, max: 10,
    help: "After a 429, a 5xx, a timeout or a refused connection; other answers (401, 404, 400) fail at once.",
  },
  {
    key: "backoff_s", label: "First retry’s delay (seconds)", kind: "number", min: 0, max: 60,
    help: "Doubled at each retry, with jitter; the server’s Retry-After wins.",
  },
];
const SETTING_KEYS: readonly string[] = SETTINGS.map((s) => s.key);

type Draft = Record<Key, string>;

function draftOf(g: GenerationSettings): Draft {
  const d = {} as Draft;
  for (const s of SETTINGS) d[s.key] = g[s.key] === null ? "" : String(g[s.key]);
  return d;
}

/** The changed keys, parsed (empty: null, the default), and the fields that are no number at all. */
function changes(g: GenerationSettings, d: Draft, bad: Set<Key>): { changed: Record<string, unknown>; local: Record<string, string> } {
  const changed: Record<string, unknown> = {};
  const local: Record<string, string> = {};
  for (const s of SETTINGS) {
    const raw = s.kind === "long" ? d[s.key] : d[s.key].trim();
    let v: string | number | null;
    if (raw.trim() === "") v = null;
    else if (s.kind === "int" || s.kind === "number") {
      if (bad.has(s.key) || !Number.isFinite(Number(raw))) {
        local[s.key] = "enter a number";
        continue;
      }
      v = Number(raw);
    } else v = raw;
    if (v !== g[s.key]) changed[s.key] = v;
  }
  return { changed, local };
}

function KeyStatus({ g }: { g: GenerationSettings }) {
  if (!g.api_key_env) return <p class="help" data-testid="api-key-status">No key is sent.</p>;
  return (
    <p class={g.api_key_set ? "help" : "help warn"} data-testid="api-key-status">
      {g.api_key_set ? `${g.api_key_env}: key found in the server’s environment.`
        : `${g.api_key_env}: not set in the server’s environment (a job would stop at once).`}
    </p>
  );
}

function SettingsForm({ project, g, onSaved }: { project: Project; g: GenerationSettings; onSaved: (g: GenerationSettings) => void }) {
  const { draft, set, problems, note, save } = useSettingsForm<Key, GenerationSettings>({
    draftOf, initial: g, changes: (d, bad) => changes(g, d, bad), patch: (changed) => api<GenerationSettings>("PATCH", `/api/projects/${project.id}/generation/settings`, changed),
    prefix: "generation.", keys: SETTING_KEYS, onSaved,
  });
  const fields = project.label_schema.fields;
  return (
    // noValidate: the server checks every value and names each problem under its setting.
    <form class="settings" onSubmit={save} aria-label="generation settings" noValidate>
      {SETTINGS.map((s) => {
        const id = `gen-${s.key}`;
        const problem = problems[s.key];
        const described = `${id}-help${problem ? ` ${id}-problem` : ""}`;
        const value = draft[s.key];
        let control;
        if (s.kind === "field") {
          const options = fields.filter((f) => s.types!.includes(f.type));
          control = (
            <select id={id} value={value} aria-invalid={!!problem} aria-describedby={described}
              onChange={(e) => set(s.key, e.currentTarget.value)}>
              <option value="">{options.length ? `the first: ${options[0]!.label || options[0]!.name}` : "the first"}</option>
              {options.map((f) => <option value={f.name}>{f.label ? `${f.label} (${f.name})` : f.name}</option>)}
              {value && !options.some((f) => f.name === value) && <option value={value}>{value}</option>}
            </select>
          );
        } else if (s.kind === "long") {
          control = (
            <textarea id={id} value={value} rows={3} aria-invalid={!!problem} aria-describedby={described}
              onInput={(e) => set(s.key, e.currentTarget.value)} />
          );
        } else if (s.kind === "text") {
          control = (
            <input id={id} value={value} spellcheck={false} aria-invalid={!!problem} aria-describedby={described}
              onInput={(e) => set(s.key, e.currentTarget.value)} />
          );
        } else {
          control = (
            <input id={id} type="number" value={value} min={s.min} max={s.max} step={s.kind === "int" ? 1 : "any"}
              aria-invalid={!!problem} aria-describedby={described}
              onInput={(e) => set(s.key, e.currentTarget.value, e.currentTarget.validity.badInput)} />
          );
        }
        return (
          <div class={problem ? "setting invalid" : "setting"} data-setting={s.key}>
            <label for={id}>
              {s.label}
              {control}
            </label>
            <p class="help" id={`${id}-help`}>{s.help}</p>
            {s.key === "api_key_env" && <KeyStatus g={g} />}
            {problem && <p class="error" id={`${id}-problem`}>{problem}</p>}
          </div>
        );
      })}
      <div class="buttons">
        <button type="submit">Save generation settings</button>
        <span role="status">{note}</span>
      </div>
    </form>
  );
}

const POLL_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const active = (j: Job | null) => j !== null && (j.status === "queued" || j.status === "running");
export const GENERATE_KIND = "generate"; // services/generation/job.py: KIND

/** What a finished job did, in a sentence. */
function resultText(r: Record<string, unknown>): string {
  const n = (v: unknown) => (typeof v === "number" ? v.toLocaleString("en") : "0");
  const models = Array.isArray(r.models) && r.models.length ? ` from ${r.models.map(String).join(", ")}` : "";
  const left = [
    r.already_full ? `${n(r.already_full)} already had enough` : "",
    r.without_prompt ? `${n(r.without_prompt)} have no prompt` : "",
  ].filter(Boolean);
  return `Added ${n(r.candidates)} candidates to ${n(r.completed)} items${models}`
    + `${left.length ? ` (of ${n(r.items)} items, ${left.join(", ")})` : ""}.`;
}

/** "Generate candidates": starts the job (or follows one already running) to its end. */
function Generate({ projectId, onFinished }: { projectId: number; onFinished?: (() => void) | undefined }) {
  const [job, setJob] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const alive = useRef(true);
  const run = async (first: () => Promise<Job | null>) => {
    setBusy(true);
    try {
      let j = await first();
      if (j && alive.current) setJob(j);
      while (j && alive.current && active(j)) {
        await sleep(POLL_MS);
        try {
          j = await api<Job>("GET", `/api/jobs/${j.id}`);
        } catch (e) {
          if (transient(e)) continue; // the server is busy or away: keep asking
          throw e;
        }
        if (alive.current) setJob(j);
      }
      if (j && alive.current) onFinished?.();
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
      return jobs.find((j) => j.kind === GENERATE_KIND && active(j)) ?? null;
    });
    return () => {
      alive.current = false;
    };
  }, [projectId]);
  const start = () => {
    if (busy) return; // aria-disabled rather than disabled, so the button keeps the focus
    setError("");
    setJob(null);
    void run(() => api<Job>("POST", `/api/projects/${projectId}/generation/jobs`));
  };
  const running = active(job);
  const total = job?.progress_total ?? 0;
  const done = Math.min(job?.progress_done ?? 0, total);
  let status = "";
  if (running) status = job!.status === "queued" ? "Waiting to start…" : `${job!.message || "generating"}…`;
  else if (job?.status === "succeeded") status = job.result ? resultText(job.result) : "Done.";
  return (
    <div class="generate-run">
      <p class="buttons">
        <button type="button" class="primary" onClick={start} aria-disabled={busy}>Generate candidates</button>
        <span class="muted">With the saved settings, for every item with fewer candidates than K.</span>
      </p>
      <p role="status" class="generate-status">{status}</p>
      {running && total > 0 && (
        <progress class="generate-progress" max={total} value={done} aria-label="Generation progress">
          {`${done} of ${total} items`}
        </progress>
      )}
      {job?.status === "failed" && (
        <p class="error" role="alert">{`Generation failed: ${job.error?.message ?? "no reason given"}`}</p>
      )}
      {error && <p class="error" role="alert">{`Generation did not start: ${error}`}</p>}
    </div>
  );
}

/** The section's content: the settings, where requests go, and the button. */
export function GenerationPanel({ project, onFinished }: { project: Project; onFinished?: () => void }) {
  const [g, setG] = useState<GenerationSettings | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api<GenerationSettings>("GET", `/api/projects/${project.id}/generation/settings`)
      .then(setG).catch((e) => setError(errorText(e)));
  }, [project.id]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!g) return <p>Loading…</p>;
  return (
    <>
      <p class="muted" data-testid="generation-endpoint">
        {g.endpoint ? `Requests go to ${g.endpoint}${g.model ? `, asking for ${g.model}` : ""}.`
          : "No model server is named yet: set its URL and model below."}
      </p>
      <SettingsForm project={project} g={g} onSaved={setG} />
      <Generate projectId={project.id} onFinished={onFinished} />
    </>
  );
}

/** Whether the project has candidates to generate (a `responses` field). */
export const generates = (p: Project) => p.label_schema.fields.some((f) => f.type === "responses");
