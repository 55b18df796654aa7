/**
 * Ratings on named criteria (docs/feedback.md): a Likert row per criterion, per response when
 * `per_response` (the default). The value is `{"r1": {"helpful": 4, …}, …}`, or `{"helpful": 4,
 * …}` for the item as a whole. Keys: a digit rates the highlighted row and highlights the next
 * one still unrated (on a scale within 0..9 the digit is the point itself, as in `rating`);
 * [ ] the previous / next row; a click on a row highlights it.
 */

import { CandidatePanes } from "../feedback/Panes";
import { lastShown, rememberShown, shownFor, type Shown } from "../feedback/candidates";
import type { CriteriaQuestion, Criterion } from "../types";
import { title, type Kind, type KeyResult, type QuestionUi, type ViewProps } from "./kind";

type Scores = Record<string, number>;

export function criteriaOf(q: CriteriaQuestion): { name: string; label: string; help: string } [] {
  return q.criteria.map((c: Criterion | string) =>
    typeof c === "string" ? { name: c, label: c, help: "" } : { name: c.name, label: c.label || c.name, help: c.help ?? "" });
}

export function scale(q: CriteriaQuestion): number[] {
  const out: number[] = [];
  for (let v = q.min ?? 1; v <= (q.max ?? 5); v++) out.push(v);
  return out;
}

/** The word for a point, from the schema's `labels` (by value, or a list from `min` up). */
export function pointWord(q: CriteriaQuestion, v: number): string {
  const l = q.labels;
  if (!l) return "";
  if (Array.isArray(l)) return l[v - (q.min ?? 1)] ?? "";
  return l[String(v)] ?? "";
}

const perResponse = (q: CriteriaQuestion) => q.per_response !== false;

interface Row {
  /** The response rated (null: the item as a whole). */
  response: Shown | null;
  criterion: { name: string; label: string; help: string };
}

function rowsOf(q: CriteriaQuestion, shown: Shown[]): Row[] {
  const crit = criteriaOf(q);
  return perResponse(q)
    ? shown.flatMap((s) => crit.map((criterion) => ({ response: s, criterion })))
    : crit.map((criterion) => ({ response: null, criterion }));
}

function scoreOf(q: CriteriaQuestion, value: unknown, row: Row): number | undefined {
  const v = (value ?? {}) as Record<string, unknown>;
  const scores = (row.response ? v[row.response.candidate.id] : v) as Scores | undefined;
  const s = scores?.[row.criterion.name];
  return typeof s === "number" && scale(q).includes(s) ? s : undefined;
}

/** The value with one row rated (undefined: the rating taken back). */
function withScore(value: unknown, row: Row, score: number | undefined): Record<string, unknown> | undefined {
  const v = { ...((value ?? {}) as Record<string, unknown>) };
  const put = (scores: Scores): Scores => {
    const next = { ...scores };
    if (score === undefined) delete next[row.criterion.name];
    else next[row.criterion.name] = score;
    return next;
  };
  if (row.response) {
    const id = row.response.candidate.id;
    const scores = put((v[id] ?? {}) as Scores);
    if (Object.keys(scores).length) v[id] = scores;
    else delete v[id];
  } else {
    return Object.keys(put(v as Scores)).length ? put(v as Scores) : undefined;
  }
  return Object.keys(v).length ? v : undefined;
}

/** The highlighted row: the one chosen, else the first still unrated. */
function currentRow(q: CriteriaQuestion, value: unknown, rows: Row[], ui: QuestionUi): number {
  if (ui.row !== undefined && ui.row < rows.length) return ui.row;
  const open = rows.findIndex((r) => scoreOf(q, value, r) === undefined);
  return open < 0 ? 0 : open;
}

function rowName(row: Row): string {
  return row.response ? `Response ${row.response.letter}: ${row.criterion.label}` : row.criterion.label;
}

function Target({ q, value, data, ui }: ViewProps<CriteriaQuestion>) {
  const { shown } = shownFor(data, q.target);
  const rows = rowsOf(q, shown);
  const at = rows[currentRow(q, value, rows, ui)];
  return (
    <CandidatePanes panes={shown.map((s) => {
      const given = rows.filter((r) => r.response === s && scoreOf(q, value, r) !== undefined);
      return {
        shown: s,
        mark: perResponse(q) && at?.response === s ? "selected" as const : undefined,
        note: given.map((r) => `${r.criterion.label} ${scoreOf(q, value, r)}`).join(" · ") || undefined,
      };
    })} />
  );
}

function View({ q, value, set, data, ui, setUi, active, activate }: ViewProps<CriteriaQuestion>) {
  const { shown } = shownFor(data, q.target);
  rememberShown(q, shown);
  const rows = rowsOf(q, shown);
  const at = currentRow(q, value, rows, ui);
  const points = scale(q);
  return (
    <table class="criteria-table">
      <caption class="muted">{`${title(q)}: digits rate the highlighted row, [ ] move between rows`}</caption>
      <tbody>
        {rows.map((row, i) => {
          const score = scoreOf(q, value, row);
          const name = rowName(row);
          return (
            <tr class={active && i === at ? "current" : undefined} data-row={i}
              onClick={() => {
                activate();
                if (ui.row !== i) setUi({ ...ui, row: i });
              }}>
              <th scope="row" title={row.criterion.help || undefined}>
                {row.response && <span class="crit-response">{`Response ${row.response.letter}`}</span>}
                {row.response && " "}
                <span class="crit-name">{row.criterion.label}</span>
              </th>
              <td>
                <div class="options rating" role="radiogroup" aria-label={name}>
                  {points.map((p) => (
                    <button type="button" role="radio" aria-checked={score === p} class={score === p ? "option point on" : "option point"}
                      title={pointWord(q, p) || undefined}
                      onClick={() => set(withScore(value, row, score === p ? undefined : p))}>
                      <span class="point-value">{String(p)}</span>
                      {pointWord(q, p) && <span class="point-word">{pointWord(q, p)}</span>}
                    </button>
                  ))}
                </div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function pointForKey(q: CriteriaQuestion, key: string): number | null {
  if (!/^[0-9]$/.test(key)) return null;
  const d = Number(key);
  const [min, max] = [q.min ?? 1, q.max ?? 5];
  if (min >= 0 && max <= 9) return d >= min && d <= max ? d : null;
  const v = min + d - 1;
  return d >= 1 && v <= max ? v : null;
}

function onKey(
  q: CriteriaQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
): KeyResult | null {
  if (!active) return null;
  const rows = rowsOf(q, shownFor(data, q.target).shown);
  if (!rows.length) return null;
  const at = currentRow(q, value, rows, ui);
  if (key === "]" || key === "[") return { ui: { ...ui, row: (at + (key === "]" ? 1 : rows.length - 1)) % rows.length } };
  const point = pointForKey(q, key);
  if (point === null) return null;
  const next = withScore(value, rows[at]!, point);
  // Then the next row still unrated after this one (wrapping), or, all rated, the next question.
  const open = [...rows.keys()].map((k) => (at + 1 + k) % rows.length)
    .find((k) => k !== at && scoreOf(q, next, rows[k]!) === undefined);
  return open === undefined
    ? { value: next, ui: { ...ui, row: undefined }, advance: true }
    : { value: next, ui: { ...ui, row: open } };
}

export const criteria: Kind<CriteriaQuestion> = {
  View,
  Target,
  onKey,
  problem(q, value) {
    const crit = criteriaOf(q);
    const missing = (scores: unknown) => crit.filter((c) => typeof (scores as Scores | undefined)?.[c.name] !== "number");
    if (!perResponse(q)) {
      const m = missing(value);
      return m.length ? `rate ${m.map((c) => c.label).join(", ")}` : null;
    }
    const v = (value ?? {}) as Record<string, unknown>;
    const shown = lastShown(q) ?? Object.keys(v).map((id) => ({ candidate: { id, content: "" }, letter: id }));
    for (const s of shown) {
      const m = missing(v[s.candidate.id]);
      if (m.length) return `rate ${m.map((c) => c.label).join(", ")} for Response ${s.letter}`;
    }
    return null;
  },
  given: (value) => !!value && typeof value === "object" && Object.keys(value).length > 0,
};
