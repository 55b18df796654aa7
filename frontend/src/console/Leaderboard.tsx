/**
 * The arena view of a project's preference questions: each generating model's Bradley-Terry
 * strength with its 95% bootstrap interval, its battles and win rate (GET .../feedback/leaderboard),
 * as a table and as an interval chart drawn like the console's other charts (console/charts.tsx).
 * Model names come from the data: text nodes only.
 */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { title } from "../questions/kind";
import type { Leaderboard as Board, ModelScore, Project, Question } from "../types";
import { DotWhisker } from "./charts";
import { num, pct } from "./Quality";

export const preferenceQuestions = (project: Project): Question[] =>
  project.label_schema.questions.filter((q) => q.type === "preference");

/** Round outwards to halves, so the axis has room for every interval and reads in plain steps. */
function domain(models: ModelScore[]): [number, number] {
  const ends = models.flatMap((m) => [m.low, m.high, m.score]).filter((x): x is number => x !== null);
  const lo = Math.floor(Math.min(0, ...ends) * 2) / 2;
  const hi = Math.ceil(Math.max(0, ...ends) * 2) / 2;
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

const interval = (m: ModelScore) => (m.low === null || m.high === null ? "–" : `${num(m.low)} – ${num(m.high)}`);

function note(m: ModelScore): string {
  return `${m.model}: strength ${num(m.score)}, 95% interval ${m.low === null ? "none" : `${num(m.low)} to ${num(m.high)}`}, `
    + `${m.comparisons} comparisons with other models, win rate ${pct(m.win_rate)}`;
}

function Board({ board, name }: { board: Board; name: string }) {
  if (!board.models.length) {
    return (
      <p class="muted">
        {board.comparisons
          ? `${board.comparisons} comparisons so far, none between responses of two different models.`
          : "No preference answered yet."}
      </p>
    );
  }
  return (
    <>
      <table class="data leaderboard" data-question={board.question}>
        <caption>{`Models by strength on “${name}”`}</caption>
        <thead>
          <tr><th scope="col">#</th><th scope="col">Model</th><th scope="col">Strength</th>
            <th scope="col">95% interval</th><th scope="col">Comparisons</th><th scope="col">Win rate</th></tr>
        </thead>
        <tbody>
          {board.models.map((m, i) => (
            <tr data-model={m.model}>
              <td>{i + 1}</td>
              <th scope="row">{m.model}</th>
              <td data-col="score">{num(m.score)}</td>
              <td data-col="interval">{interval(m)}</td>
              <td data-col="comparisons">{m.comparisons}</td>
              <td data-col="win_rate">{pct(m.win_rate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <DotWhisker title={`Model strength on “${name}”`} domain={domain(board.models)} format={(x) => x.toFixed(1)}
        threshold={{ value: 0, label: "0: the average model" }}
        caption={`Strength of each model (Bradley-Terry log-odds, annotators' reliability learned) with its 95% bootstrap interval over ${board.resamples} resamples of the prompts; ${board.battles} comparisons between two models' responses by ${board.annotators} annotators`}
        rows={board.models.map((m) => ({ label: m.model, value: m.score, low: m.low, high: m.high, note: note(m) }))} />
    </>
  );
}

/** One board per preference question of the project (nothing when it has none). */
export function Leaderboard({ projectId, project, reload }: { projectId: number; project: Project; reload?: number }) {
  const questions = preferenceQuestions(project);
  const [boards, setBoards] = useState<Record<string, Board>>({});
  const [error, setError] = useState("");
  const names = questions.map((q) => q.name).join("\n");
  useEffect(() => {
    let live = true;
    setError("");
    for (const q of questions) {
      api<Board>("GET", `/api/projects/${projectId}/feedback/leaderboard?question=${encodeURIComponent(q.name)}`)
        .then((b) => live && setBoards((all) => ({ ...all, [q.name]: b })))
        .catch((e) => live && setError(errorText(e)));
    }
    return () => {
      live = false;
    };
  }, [projectId, names, reload]);
  if (!questions.length) return null;
  return (
    <section class="panel" aria-labelledby="leaderboard-h">
      <h2 id="leaderboard-h">Leaderboard of the models</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {questions.map((q) => {
        const board = boards[q.name];
        return (
          <div class="leaderboard-board">
            {questions.length > 1 && <h3>{title(q)}</h3>}
            {board ? <Board board={board} name={title(q)} /> : !error && <p>Loading the leaderboard…</p>}
          </div>
        );
      })}
    </section>
  );
}
