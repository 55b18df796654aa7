/**
 * The learning curve: each round's accuracy against the human answers spent so far, drawn as
 * inline SVG like the other charts (console/charts.tsx): an image with a name, a `<title>` per
 * round with its numbers in words, and a table with the same numbers next to it.
 */

import type { LoopRound, RoundMetrics } from "../types";
import { ticks } from "./charts";
import { pct } from "./Quality";

export const CURVE_TITLE = "Learning curve: accuracy against human answers";

export const trained = (m: RoundMetrics) => m.trained !== false;

/** A share with one decimal (accuracies near 100% differ in the decimals). */
export const pct1 = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(Math.round(x * 1000) / 10).toFixed(1)}%`;

/** A date and time, short: the rounds table has many columns. */
function shortWhen(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

/** The round's numbers in words: the tooltip of its marks. */
export function roundNote(r: LoopRound, n: number): string {
  const m = r.metrics;
  const head = `Round ${n} (model ${r.model_version}): ${m.human_answers ?? 0} human answers, ${m.labelled ?? 0} labelled items`;
  if (!trained(m)) return `${head}, not trained${m.reason ? ` (${m.reason})` : ""}`;
  const parts = [head, `out-of-fold accuracy ${pct1(m.oof_accuracy)}`];
  if (m.gold_accuracy !== undefined) parts.push(`gold accuracy ${pct1(m.gold_accuracy)} on ${m.gold_items ?? "?"} gold items`);
  if (m.autolabelled !== undefined) parts.push(`${m.autolabelled} auto-labelled`);
  if (m.label_issues !== undefined) parts.push(`${m.label_issues} label issues`);
  return parts.join(", ");
}

/**
 * `rounds`: every round, oldest first (a mark's number is its place among them); only rounds that
 * trained a model are plotted: a cold start measured no accuracy, and a point on the axis would
 * read as one.
 */
function Chart({ rounds: all }: { rounds: LoopRound[] }) {
  const rounds = all.map((r, i) => ({ ...r, n: i + 1 })).filter((r) => trained(r.metrics));
  const width = 640;
  const height = 280;
  const left = 52;
  const right = 24;
  const top = 34;
  const bottom = 42;
  const xs = ticks(Math.max(1, ...rounds.map((r) => r.metrics.human_answers ?? 0)));
  const xMax = xs[xs.length - 1]!;
  const accuracies = rounds.flatMap((r) => [r.metrics.oof_accuracy, r.metrics.gold_accuracy])
    .filter((a): a is number => typeof a === "number");
  // From 50% (or lower when a round did worse) to 100%: the differences that matter are up there.
  const lo = Math.max(0, Math.min(0.5, Math.floor(Math.min(1, ...accuracies) * 10) / 10));
  const ys = ticks(1, lo, 5).filter((t) => t >= lo - 1e-9 && t <= 1 + 1e-9);
  const px = (v: number) => left + (v / xMax) * (width - left - right);
  const py = (v: number) => height - bottom - ((Math.max(lo, Math.min(1, v)) - lo) / (1 - lo)) * (height - bottom - top);
  const base = height - bottom;
  const line = (key: "oof_accuracy" | "gold_accuracy") => rounds
    .filter((r) => typeof r.metrics[key] === "number")
    .map((r) => `${px(r.metrics.human_answers ?? 0)},${py(r.metrics[key]!)}`)
    .join(" ");
  const oof = line("oof_accuracy");
  const gold = line("gold_accuracy");
  const anyGold = rounds.some((r) => r.metrics.gold_accuracy !== undefined);
  const untrained = all.length - rounds.length;
  // The legend's entries side by side (10px text is about 5.2px a character).
  const entries: { mark: "oof" | "gold"; label: string }[] = [
    { mark: "oof", label: "out-of-fold accuracy (labelled items)" },
    ...(anyGold ? [{ mark: "gold" as const, label: "gold accuracy" }] : []),
  ];
  let at = left;
  const legend = entries.map((e) => {
    const x = at;
    at += 28 + e.label.length * 5.2 + 20;
    return { ...e, x };
  });
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={CURVE_TITLE} width="100%">
        <title>{CURVE_TITLE}</title>
        {xs.map((t) => (
          <g class="tick">
            <line class="grid" x1={px(t)} x2={px(t)} y1={top} y2={base} />
            <text x={px(t)} y={base + 14} text-anchor="middle">{String(t)}</text>
          </g>
        ))}
        {ys.map((t) => (
          <g class="tick">
            <line class="grid" x1={left} x2={width - right} y1={py(t)} y2={py(t)} />
            <text x={left - 6} y={py(t) + 4} text-anchor="end">{pct(t)}</text>
          </g>
        ))}
        <text class="axis-label" x={(left + width - right) / 2} y={height - 6} text-anchor="middle">human answers</text>
        <text class="axis-label" x={12} y={(top + base) / 2} text-anchor="middle"
          transform={`rotate(-90 12 ${(top + base) / 2})`}>accuracy</text>
        <g class="legend">
          {legend.map((l) => (
            <g>
              <line class={l.mark === "gold" ? "curve gold" : "curve"} x1={l.x} x2={l.x + 22} y1={12} y2={12} />
              {l.mark === "gold"
                ? <rect class="gold-mark" x={l.x + 6} y={7} width={10} height={10} />
                : <circle class="dot" cx={l.x + 11} cy={12} r={3.5} />}
              <text x={l.x + 28} y={16}>{l.label}</text>
            </g>
          ))}
        </g>
        {oof.includes(" ") && <polyline class="curve" points={oof} />}
        {gold.includes(" ") && <polyline class="curve gold" points={gold} />}
        {rounds.map((r) => {
          const m = r.metrics;
          const x = px(m.human_answers ?? 0);
          return (
            <g class="round" data-round={String(r.n)}>
              <title>{roundNote(r, r.n)}</title>
              {/* an open square round the dot, so both show when the two accuracies are equal */}
              {m.gold_accuracy !== undefined && <rect class="gold-mark" x={x - 6.5} y={py(m.gold_accuracy) - 6.5} width={13} height={13} />}
              {m.oof_accuracy !== undefined && <circle class="dot" cx={x} cy={py(m.oof_accuracy)} r={4.5} />}
            </g>
          );
        })}
      </svg>
      <figcaption>
        Accuracy of each round's model against the human answers spent so far: out-of-fold (cross-validated
        on the labelled items){anyGold ? ", and on gold items" : ""}. One point per round that trained a model
        {untrained ? `; ${untrained === 1 ? "the round" : `the ${untrained} rounds`} without one (cold start) ${untrained === 1 ? "is" : "are"} in the table only` : ""}.
      </figcaption>
    </figure>
  );
}

function Rounds({ rounds }: { rounds: LoopRound[] }) {
  return (
    <table class="data rounds">
      <caption>Rounds, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">Round</th><th scope="col">When</th><th scope="col">Human answers</th>
          <th scope="col">Labelled items</th><th scope="col">Out-of-fold accuracy</th><th scope="col">Gold accuracy</th>
          <th scope="col">Auto-labelled</th><th scope="col">Accuracy lower bound</th><th scope="col">Label issues</th>
          <th scope="col">Strategy</th>
        </tr>
      </thead>
      <tbody>
        {rounds.map((r, i) => {
          const m = r.metrics;
          const auto = m.autolabelled === undefined ? "–"
            : `${m.autolabelled}${m.autolabelled && m.autolabel_coverage !== undefined ? ` (${pct(m.autolabel_coverage)} of untouched)` : ""}`;
          return (
            <tr data-round={String(i + 1)}>
              <th scope="row">{String(i + 1)}<span class="model">{`model ${r.model_version}`}</span></th>
              <td class="when"><time dateTime={r.created_at}>{shortWhen(r.created_at)}</time></td>
              <td>{String(m.human_answers ?? 0)}</td>
              <td>{String(m.labelled ?? 0)}</td>
              <td>{trained(m) ? pct1(m.oof_accuracy) : "not trained"}</td>
              <td>{m.gold_accuracy !== undefined ? `${pct1(m.gold_accuracy)} (${m.gold_items ?? "?"} items)` : "–"}</td>
              <td>{auto}</td>
              <td>{typeof m.autolabel_threshold === "number" ? pct1(m.autolabel_lower_bound) : "–"}</td>
              <td>{m.label_issues === undefined ? "–" : String(m.label_issues)}</td>
              <td>{trained(m) ? m.strategy ?? "–" : "cold start"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function LearningCurve({ rounds }: { rounds: LoopRound[] }) {
  if (!rounds.length) return <p class="muted">No round has run yet: run one to start the curve.</p>;
  return (
    <>
      {rounds.some((r) => trained(r.metrics))
        ? <Chart rounds={rounds} />
        : <p class="muted no-curve">No round has trained a model yet (too few labelled items), so there is no accuracy to plot.</p>}
      <Rounds rounds={rounds} />
    </>
  );
}
