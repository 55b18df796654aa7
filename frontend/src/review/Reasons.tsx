/**
 * Why an item waits for review, in sentences with the numbers a reviewer weighs: the consensus
 * confidence against the project's threshold and which answers disagree; who flagged it; the
 * model's answer (in the schema's labels) and how sure it is. Gold answers never appear here.
 */

import { answerLabels, questionValueText } from "../format";
import { title } from "../questions/kind";
import type { Item, LabelSchema, Project, StoredAnswer } from "../types";
import { latestPerPerson } from "./Answers";

const pct = (x: number) => `${Math.round(x * 100)}%`;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** "Topic: ann says Sport, bob says Food" for each question on which people's answers differ. */
function disagreements(schema: LabelSchema, item: Item, answers: StoredAnswer[]): string[] {
  const human = latestPerPerson(answers).filter((a) => a.source === "human");
  return schema.questions
    .filter((q) => human.some((a) => !same(a.value[q.name], human[0]!.value[q.name])))
    .map((q) => `${title(q)}: ${human
      .map((a) => `${a.username ?? `user ${a.user_id}`} says ${questionValueText(q, a.value[q.name], item.data)}`)
      .join(", ")}`);
}

function unsure(project: Project, item: Item, answers: StoredAnswer[]): string {
  const c = item.consensus?.confidence;
  const bar = `the project's review threshold of ${pct(project.quality.review_below)}`;
  const sure = c === null || c === undefined
    ? "the consensus has no confidence yet"
    : `the consensus is only ${pct(c)} sure, below ${bar}`;
  const split = disagreements(project.label_schema, item, answers);
  return split.length
    ? `Disputed: the answers disagree (${split.join("; ")}), and ${sure}.`
    : `Unsure consensus: ${sure}, though no answers disagree.`;
}

function suspected(project: Project, item: Item): string {
  const issue = item.label_issue;
  if (!issue?.model_answer) {
    return "Model suspicion: a round of the learning loop suspected this label; the latest round no longer does.";
  }
  const who = issue.model_version === null ? "The model" : `Model ${issue.model_version}`;
  const said = answerLabels(project.label_schema, issue.model_answer.value, item.data);
  const against = item.consensus ? `, against the consensus ${answerLabels(project.label_schema, item.consensus.value, item.data)}` : "";
  return `Model suspicion: ${who} answers ${said} with ${pct(issue.model_answer.confidence)} confidence${against} `
    + `(it flags from ${pct(project.loop.label_error_confidence)}).`;
}

/** One sentence per reason code (an unknown code is shown as it came). */
export function reasonSentences(project: Project, item: Item, answers: StoredAnswer[]): [string, string][] {
  const reasons = item.review_reasons ?? [];
  const out: [string, string][] = [];
  for (const r of reasons) {
    if (r === "low_confidence") out.push([r, unsure(project, item, answers)]);
    else if (r === "flagged") out.push([r, "Flagged by hand: a reviewer or manager sent this item to review."]);
    else if (r === "model_disagrees") out.push([r, suspected(project, item)]);
    else if (r === "unlikely_label" || r === "confident_learning") {
      const how = r === "unlikely_label"
        ? "its out-of-fold probability is among the low group of all the labels"
        : "confident learning, over the model's out-of-fold probabilities";
      out.push([r, reasons.includes("model_disagrees")
        ? `The label is also unlikely: ${how}.`
        : `Unlikely label: ${how}. ${suspected(project, item)}`]);
    } else out.push([r, `Other reason: ${r.replace(/_/g, " ")}.`]);
  }
  return out;
}

export function ReviewReasons({ project, item, answers }: { project: Project; item: Item; answers: StoredAnswer[] }) {
  const sentences = reasonSentences(project, item, answers);
  return (
    <section class="review-why" aria-label="why this item is in review">
      <h2>Why this item is here</h2>
      {sentences.length
        ? <ul>{sentences.map(([code, text]) => <li data-reason={code}>{text}</li>)}</ul>
        : <p class="muted">No reason was recorded (it was sent to review before reasons were kept).</p>}
    </section>
  );
}
