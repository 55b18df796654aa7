/**
 * Transcript quality on the quality page (docs/quality.md, "Transcripts on the platform"): per
 * transcript question the items annotators disagree on most (linked to their item page), each
 * annotator's word error rate against the consensus and on gold clips as bars, and the cell of the
 * annotators table that says it in words. Item ids and usernames are untrusted: text nodes only.
 */

import { title } from "../questions/kind";
import type { AnnotatorQuality, LabelSchema, Project, QuestionAgreement, TranscriptScore } from "../types";
import { BarChart } from "./charts";
import { num } from "./Quality";

/** A word error rate with one decimal ("5.2%"): whole percents hide the differences that matter. */
export const werText = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);

/** As the server decides (services/quality/transcript_consensus.py: is_transcript). */
export function isTranscriptQuestion(schema: LabelSchema, q: LabelSchema["questions"][number]): boolean {
  if (q.type === "audio_segments") return !!q.transcript;
  return q.type === "text" && schema.fields.some((f) => f.type === "audio");
}

export function transcriptQuestions(schema: LabelSchema): { name: string; title: string; segments: boolean }[] {
  return schema.questions.filter((q) => isTranscriptQuestion(schema, q))
    .map((q) => ({ name: q.name, title: title(q), segments: q.type === "audio_segments" }));
}

const clips = (n: number, gold = false) => `${n} ${gold ? "gold " : ""}${n === 1 ? "clip" : "clips"}`;

/** The items whose transcripts differ most, worst first, each linked to its item page. */
function WorstItems({ q, name, projectId }: { q: QuestionAgreement; name: string; projectId: number }) {
  const worst = q.worst_items ?? [];
  if (!worst.length) return <p class="muted">{`${name}: annotators typed the same words on every item.`}</p>;
  return (
    <table class="data worst-items" data-question={q.question}>
      <caption>{`${name}: items annotators disagree on most`}</caption>
      <thead><tr><th scope="col">Item</th><th scope="col">WER between annotators</th><th scope="col">Annotators</th></tr></thead>
      <tbody>
        {worst.map((w) => (
          <tr data-item={w.item_id}>
            <th scope="row"><a href={`#/p/${projectId}/items/${w.item_id}`}>{w.external_id ?? `item ${w.item_id}`}</a></th>
            <td>{werText(w.wer)}</td>
            <td>{w.annotators}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Per transcript question of the report: the worst items. */
export function TranscriptAgreement({ report, project, projectId }: {
  report: { questions: QuestionAgreement[] }; project: Project; projectId: number;
}) {
  const names = new Map(transcriptQuestions(project.label_schema).map((q) => [q.name, q.title]));
  const spoken = report.questions.filter((q) => Array.isArray(q.worst_items));
  if (!spoken.length) return null;
  return (
    <div class="transcript-agreement">
      {spoken.map((q) => <WorstItems q={q} name={names.get(q.question) ?? q.question} projectId={projectId} />)}
    </div>
  );
}

function werBars(people: AnnotatorQuality[], pick: (u: AnnotatorQuality) => TranscriptScore | undefined, gold: boolean) {
  return people.flatMap((u) => {
    const s = pick(u);
    if (!s || s.wer === null) return [];
    return [{
      label: u.username, value: s.wer, cls: u.paused ? "paused" : "",
      note: `${u.username}: WER ${werText(s.wer)} against the ${gold ? "gold" : "consensus"} (${s.errors} errors in `
        + `${s.words} words, ${clips(s.answers, gold)})`,
    }];
  });
}

/** Per transcript question, each annotator's WER against the consensus and on gold clips, as bars. */
export function TranscriptCharts({ people, project }: { people: AnnotatorQuality[]; project: Project }) {
  const questions = transcriptQuestions(project.label_schema);
  const several = questions.length > 1;
  return (
    <>
      {questions.map((q) => {
        const named = several ? `${q.title}: ` : "";
        const agreed = werBars(people, (u) => u.transcripts?.[q.name], false);
        const gold = werBars(people, (u) => u.gold_transcripts?.[q.name], true);
        return (
          <div class="transcript-charts" data-question={q.name}>
            {agreed.length > 0 && (
              <BarChart title={`${named}WER against the consensus per annotator`} bars={agreed} format={werText}
                caption={`${named}each annotator's word error rate against the consensus on items that are not gold (lower is better)`} />
            )}
            {gold.length > 0 && (
              <BarChart title={`${named}WER on gold clips per annotator`} bars={gold} format={werText}
                caption={`${named}each annotator's word error rate against the gold transcripts (lower is better)`} />
            )}
          </div>
        );
      })}
    </>
  );
}

/** One question's scores in words: against the consensus, on gold, and the segments on gold. */
function scoreParts(mine?: TranscriptScore, gold?: TranscriptScore) {
  return (
    <>
      {mine && mine.wer !== null && <span data-score="consensus">{`WER ${werText(mine.wer)} vs consensus on ${clips(mine.answers)}`}</span>}
      {gold && gold.wer !== null && <span data-score="gold">{`WER ${werText(gold.wer)} vs gold on ${clips(gold.answers, true)}`}</span>}
      {gold && gold.f1 !== undefined && (
        <span data-score="segments">
          {`segments on gold: F1 ${num(gold.f1)}, mean IoU ${num(gold.mean_iou)}`}
          <span class="counts">{` (${gold.matched} matched, ${gold.missed} missed, ${gold.extra} extra)`}</span>
        </span>
      )}
    </>
  );
}

/** The transcripts cell of the annotators table: one line per transcript question (named when several). */
export function TranscriptCell({ u, questions }: { u: AnnotatorQuality; questions: { name: string; title: string }[] }) {
  const scored = questions.filter((q) => u.transcripts?.[q.name] || u.gold_transcripts?.[q.name]);
  if (!scored.length) return <>–</>;
  return (
    <ul class="gold-shapes transcript-scores">
      {scored.map((q) => (
        <li data-question={q.name}>
          {questions.length > 1 && <span class="q">{`${q.title}: `}</span>}
          {scoreParts(u.transcripts?.[q.name], u.gold_transcripts?.[q.name])}
        </li>
      ))}
    </ul>
  );
}
