/**
 * The export menu's training data from language-model feedback (docs/feedback.md, "Exports for
 * training"): DPO pairs, SFT conversations, ratings tables and a Hugging Face dataset, each offered
 * only when the schema has the questions it is made from (the server's NEEDS,
 * services/exporting/feedback/plan.py: the same table).
 *
 * These downloads go through `fetch` rather than a plain link, for two reasons: the server says
 * what the file holds and what it left out (ties, split votes) in the `X-Labelloop-Summary`
 * header, which a link's download never shows; and a refusal (say, which question) is shown here
 * instead of a page of JSON. The file is then handed to the browser as an object URL to save.
 */

import { useState } from "preact/hooks";
import { ApiError, NetworkError, errorText, requestHeaders } from "../api";
import { title } from "../questions/kind";
import type { Problem, Project, Question } from "../types";

const PAIRWISE = ["preference", "ranking"];

interface Training {
  value: string;
  name: string;
  about: string;
  /** The question types it is made from. */
  needs: string[];
  /** Several preference/ranking questions: the server needs to be told which (DPO pairs). */
  onePairwise: boolean;
}

const TRAINING: Training[] = [
  {
    value: "dpo", name: "DPO pairs", needs: PAIRWISE, onePairwise: true,
    about: "JSONL: prompt, chosen, rejected and the margin, from the preferences aggregated with each annotator’s reliability (Crowd-BT)",
  },
  {
    value: "sft", name: "SFT conversations", needs: [...PAIRWISE, "rewrite"], onePairwise: false,
    about: "JSONL of OpenAI chat messages: each item’s winning response and its accepted rewrites",
  },
  {
    value: "ratings", name: "Ratings (CSV)", needs: ["criteria"], onePairwise: false,
    about: "one row per item, response and criterion: the aggregated score and the number of ratings",
  },
  {
    value: "ratings-parquet", name: "Ratings (Parquet)", needs: ["criteria"], onePairwise: false,
    about: "the same table in Parquet, for data frames",
  },
  {
    value: "hf", name: "Hugging Face dataset", needs: [...PAIRWISE, "rewrite", "criteria"], onePairwise: true,
    about: "a zip of Parquet shards (dpo, sft, ratings) with a README.md dataset card, for datasets.load_dataset",
  },
];

/** The `question` choices of a format: none when there is nothing to choose. */
function questionChoices(t: Training, questions: Question[]): { value: string; label: string }[] {
  const fitting = questions.filter((q) => t.needs.includes(q.type));
  const pairwise = fitting.filter((q) => PAIRWISE.includes(q.type));
  const label = (q: Question) => `${title(q)} (${q.type})`;
  // With several preference or ranking questions the server needs one of them named; naming
  // another kind would leave the pairwise ones ambiguous.
  if (t.onePairwise && pairwise.length > 1) return pairwise.map((q) => ({ value: q.name, label: label(q) }));
  if (fitting.length < 2) return [];
  return [{ value: "", label: "all of them" }, ...fitting.map((q) => ({ value: q.name, label: label(q) }))];
}

/** What the X-Labelloop-Summary header says, in words; null when it is missing or unreadable. */
export function summaryText(header: string | null): string | null {
  if (!header) return null;
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(header) as Record<string, unknown>;
  } catch {
    return null;
  }
  const n = (v: unknown) => (typeof v === "number" ? v.toLocaleString("en") : "?");
  const plural = (v: unknown, one: string, many: string) => `${n(v)} ${v === 1 ? one : many}`;
  const parts: string[] = [];
  const dpo = s.dpo as Record<string, unknown> | undefined;
  if (dpo) {
    parts.push(`${plural(dpo.pairs, "DPO pair", "DPO pairs")} from ${plural(dpo.comparisons, "comparison", "comparisons")}`
      + ` of “${String(dpo.question)}”; left out: ${plural(dpo.ties_left_out, "tie", "ties")} and `
      + `${plural(dpo.no_winner_left_out, "pair", "pairs")} without a winner`);
  }
  const sft = s.sft as Record<string, unknown> | undefined;
  if (sft) {
    parts.push(`${plural(sft.rows, "SFT conversation", "SFT conversations")} (${n(sft.from_winners)} from winners, `
      + `${n(sft.from_rewrites)} from rewrites)`);
  }
  const ratings = s.ratings as Record<string, unknown> | undefined;
  if (ratings) parts.push(plural(ratings.rows, "rating row", "rating rows"));
  parts.push(`${plural(s.annotators, "annotator", "annotators")}, ${plural(s.answers, "answer", "answers")}`);
  return `${parts.join("; ")}.`;
}

/** The file name the server gives (Content-Disposition), or a fallback. */
function fileName(disposition: string | null, fallback: string): string {
  const star = disposition?.match(/filename\*=UTF-8''([^;]+)/i);
  if (star) {
    try {
      return decodeURIComponent(star[1]!);
    } catch {
      // fall through to the plain name
    }
  }
  return disposition?.match(/filename="([^"]+)"/i)?.[1] ?? fallback;
}

/** Fetch an export and hand it to the browser to save; the summary header's value. */
async function download(url: string, fallback: string): Promise<string | null> {
  let r: Response;
  try {
    r = await fetch(url, { headers: requestHeaders("GET", { Accept: "*/*" }), credentials: "same-origin" });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!r.ok) {
    const body = (await r.json().catch(() => null)) as { error?: { message?: string; problems?: Problem[] } } | null;
    throw new ApiError(r.status, body?.error?.message ?? `HTTP ${r.status}`, body?.error?.problems ?? []);
  }
  const summary = r.headers.get("X-Labelloop-Summary");
  const href = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = fileName(r.headers.get("Content-Disposition"), fallback);
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has the file once the click is handled; the object URL only has to outlive it.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return summary;
}

function TrainingFormat({ project, t }: { project: Project; t: Training }) {
  const choices = questionChoices(t, project.label_schema.questions);
  const [question, setQuestion] = useState(choices[0]?.value ?? "");
  const [license, setLicense] = useState("other");
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const params = new URLSearchParams({ format: t.value });
  if (question) params.set("question", question);
  if (t.value === "hf") params.set("license", license.trim() || "other");
  const get = async () => {
    if (busy) return;
    setBusy(true);
    setNote({ text: "Preparing the file…", error: false });
    try {
      const summary = await download(`/api/projects/${project.id}/export?${params}`, `${t.value}.bin`);
      setNote({ text: `Downloaded. ${summaryText(summary) ?? ""}`.trim(), error: false });
    } catch (e) {
      setNote({ text: `Not downloaded: ${errorText(e)}`, error: true });
    } finally {
      setBusy(false);
    }
  };
  const id = `export-${t.value}`;
  return (
    <li data-format={t.value}>
      <button type="button" onClick={get} aria-disabled={busy}>{`Download ${t.name}`}</button>{" "}
      <span class="about">{t.about}</span>
      {(choices.length > 0 || t.value === "hf") && (
        <div class="filters">
          {choices.length > 0 && (
            <label>
              Question
              <select id={`${id}-question`} value={question} onChange={(e) => setQuestion(e.currentTarget.value)}>
                {choices.map((c) => <option value={c.value}>{c.label}</option>)}
              </select>
            </label>
          )}
          {t.value === "hf" && (
            <label>
              Licence of the dataset card
              <input id={`${id}-license`} value={license} spellcheck={false} placeholder="other"
                onInput={(e) => setLicense(e.currentTarget.value)} />
            </label>
          )}
        </div>
      )}
      {note && <p class={note.error ? "error" : "muted"} role={note.error ? "alert" : "status"}>{note.text}</p>}
    </li>
  );
}

/** The training formats this project's schema can make, or nothing. */
export function TrainingExports({ project }: { project: Project }) {
  const types = new Set<string>(project.label_schema.questions.map((q) => q.type));
  const offered = TRAINING.filter((t) => t.needs.some((n) => types.has(n)));
  if (!offered.length) return null;
  return (
    <div class="training-export" aria-label="training data" role="group">
      <h3>Training data from the feedback</h3>
      <ul class="formats">
        {offered.map((t) => <TrainingFormat key={t.value} project={project} t={t} />)}
      </ul>
    </div>
  );
}
