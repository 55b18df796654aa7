/**
 * Every answer to one item side by side, question by question, with the questions on which
 * they differ marked. Answers are untrusted (free text especially): text nodes only. Shape
 * questions also draw every answer on the image, one colour per person, and audio segments put
 * each person's segments with their transcripts in a lane under the waveform (`reviewLayers`).
 */

import { isShapeQuestion } from "../canvas/words";
import { FeedbackValue, isFeedbackQuestion } from "../feedback/words";
import { questionValueText } from "../format";
import { title, type OtherValue } from "../questions/kind";
import type { Answer, Item, ItemDetail, LabelSchema, StoredAnswer } from "../types";

/** Each person's latest answer (a revision replaces what it revised), in the order given. */
export function latestPerPerson(answers: StoredAnswer[]): StoredAnswer[] {
  const last = new Map<string, StoredAnswer>();
  for (const a of answers) {
    const who = `${a.source}:${a.user_id}`;
    const seen = last.get(who);
    if (!seen || seen.id < a.id) last.set(who, a);
  }
  return answers.filter((a) => last.get(`${a.source}:${a.user_id}`) === a);
}

/** Who gave an answer, as the cards name them. */
function whoOf(a: StoredAnswer): string {
  const name = a.username ?? `user ${a.user_id}`;
  return a.source === "human" ? name : `${name} (${a.source})`;
}

/** Questions whose answers are drawn on the item: shapes on the image, segments under the waveform. */
const drawn = (q: LabelSchema["questions"][number]) =>
  isShapeQuestion(q) || q.type === "audio_segments" || q.type === "video_tracks";

/** A value worth drawing: a list (shapes, segments), or video tracks' `{tracks, shapes}`. */
const drawable = (q: LabelSchema["questions"][number], v: unknown) =>
  Array.isArray(v) || (q.type === "video_tracks" && !!v && typeof v === "object");

/**
 * Per shape, audio segments or video tracks question, each person's latest answer and the gold answer (sent to
 * managers only) as values to draw under the decision (questions/kind.ts: OtherValue).
 */
export function reviewLayers(schema: LabelSchema, detail: ItemDetail): Record<string, OtherValue[]> {
  const shown = latestPerPerson(detail.answers);
  const out: Record<string, OtherValue[]> = {};
  for (const q of schema.questions) {
    if (!drawn(q)) continue;
    const layers: OtherValue[] = shown
      .filter((a) => drawable(q, a.value[q.name]))
      .map((a) => ({ id: `answer:${a.id}`, who: whoOf(a), kind: "answer", value: a.value[q.name] }));
    const gold = detail.item.gold?.[q.name];
    if (drawable(q, gold)) layers.push({ id: "gold", who: "gold answer", kind: "gold", value: gold });
    if (layers.length) out[q.name] = layers;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function AnswerCards({ schema, item, answers, onUse }: {
  schema: LabelSchema;
  item: Item;
  answers: StoredAnswer[];
  /** Start the decision from this answer. */
  onUse: (value: Answer) => void;
}) {
  const shown = latestPerPerson(answers);
  const cards: { who: string; kind: string; value: Answer; detail: string }[] = shown.map((a) => ({
    who: a.username ?? `user ${a.user_id}`,
    kind: a.source,
    value: a.value,
    detail: [a.source !== "human" ? a.source : "", a.duration_ms !== null ? `${(a.duration_ms / 1000).toFixed(1)} s` : ""]
      .filter(Boolean).join(" · "),
  }));
  if (item.gold) cards.push({ who: "gold answer", kind: "gold", value: item.gold, detail: "managers only" });
  const differs = new Set(schema.questions
    .filter((q) => cards.some((c) => !same(c.value[q.name], cards[0]!.value[q.name])))
    .map((q) => q.name));
  if (!cards.length) return <p class="muted">No answers yet: this item was flagged before anyone answered.</p>;
  return (
    <section class="compare" aria-label="answers to compare">
      <h2>{`${shown.length} answer${shown.length === 1 ? "" : "s"}`}
        {differs.size > 0 && <span class="muted">{` · they differ on ${schema.questions.filter((q) => differs.has(q.name)).map(title).join(", ")}`}</span>}
      </h2>
      <div class="cards">
        {cards.map((c, n) => (
          <article class={`answer-card ${c.kind}`} aria-label={`answer by ${c.who}`} data-who={c.who}>
            <h3>
              <span class="who">{c.who}</span>
              {c.detail && <span class="muted">{` ${c.detail}`}</span>}
            </h3>
            <dl>
              {schema.questions.map((q) => (
                <div class={differs.has(q.name) ? "differs" : ""}>
                  <dt>
                    {title(q)}
                    {differs.has(q.name) && <span class="badge differ">differs</span>}
                  </dt>
                  <dd>{isFeedbackQuestion(q)
                    ? <FeedbackValue q={q} value={c.value[q.name]} data={item.data} />
                    : questionValueText(q, c.value[q.name], item.data)}</dd>
                </div>
              ))}
            </dl>
            <button type="button" onClick={() => onUse(c.value)} aria-label={`start from the answer of ${c.who}`}>
              {`Start from answer ${n + 1}`}
            </button>
          </article>
        ))}
      </div>
      <h2 class="decision-h">Your decision</h2>
    </section>
  );
}
