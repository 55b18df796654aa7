/**
 * Create a project: a schema editor checked by the server as you type, with a live preview. While
 * the text has problems the preview keeps the last valid schema, marked out of date, and the
 * create button is off and says why.
 */

import { useEffect, useState } from "preact/hooks";
import { ApiError, api, errorText, problemText } from "../api";
import { go } from "../router";
import { QuestionsForm } from "../questions/form";
import type { QuestionUi } from "../questions/kind";
import type { Answer, LabelSchema, Problem, Project } from "../types";

export const EXAMPLE_SCHEMA = `title: Movie reviews
instructions: Read the snippet, then answer.
fields:
  - {name: text, type: text}
questions:
  - name: sentiment
    type: choice
    options: [positive, negative, neutral]
  - {name: confidence, type: rating, min: 1, max: 5}
  - {name: people, type: spans, target: text, labels: [PER, ORG], required: false}
`;

// A language-model item (docs/feedback.md, "Items"): the prompt, or a conversation whose last turn
// the candidates answer, and two short candidates with some Markdown for the widgets to show.
const SAMPLE_PROMPT = "Suggest a name for a grey cat, and say why.";
const SAMPLE_CHAT = [
  { role: "user", content: "We adopted a grey cat. Any name ideas?" },
  { role: "assistant", content: "Congratulations! Is it shy or bold?" },
  { role: "user", content: "Bold, and always hungry. One name, please, and why." },
];
const SAMPLE_RESPONSES = [
  { id: "r1", content: "**Mochi**: soft, round and always asking for food.", model: null, meta: {} },
  { id: "r2", content: "How about *Pixel*?\n\n- short to call\n- grey like an old screen", model: null, meta: {} },
];

function sampleData(schema: LabelSchema): Record<string, unknown> {
  const feedback = schema.fields.some((f) => f.type === "responses");
  const data: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (f.type === "responses") data[f.name] = SAMPLE_RESPONSES;
    else if (f.type === "conversation") {
      data[f.name] = feedback ? SAMPLE_CHAT
        : [{ role: "user", content: "Hello?" }, { role: "assistant", content: "Hi! How can I help?" }];
    } else if (f.type === "text") {
      data[f.name] = feedback ? SAMPLE_PROMPT : `Sample ${f.label || f.name}: Ada Lovelace wrote to Charles Babbage in London.`;
    } else data[f.name] = "";
  }
  return data;
}

function Preview({ schema }: { schema: LabelSchema }) {
  const [answer, setAnswer] = useState<Answer>({});
  const [active, setActive] = useState(0);
  const [ui, setUi] = useState<Record<string, QuestionUi>>({});
  return (
    <QuestionsForm schema={schema} data={sampleData(schema)} answer={answer} active={active} setActive={setActive}
      setAnswer={(q, v) => setAnswer({ ...answer, [q]: v })} ui={ui} setUi={(q, u) => setUi({ ...ui, [q]: u })}
      suggested={new Set()} />
  );
}

export function NewProject() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [overlap, setOverlap] = useState(1);
  const [lease, setLease] = useState(600);
  const [text, setText] = useState(EXAMPLE_SCHEMA);
  const [schema, setSchema] = useState<LabelSchema | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState("");

  useEffect(() => {
    const timer = setTimeout(() => {
      api<{ label_schema: LabelSchema }>("POST", "/api/schemas/check", { label_schema: text })
        .then((r) => {
          setSchema(r.label_schema);
          setProblems([]);
        })
        .catch((e) => {
          setProblems(e instanceof ApiError && e.problems.length ? e.problems : [{ message: errorText(e) }]);
        });
    }, 250);
    return () => clearTimeout(timer);
  }, [text]);

  const invalid = problems.length > 0;
  const stale = invalid && schema !== null;

  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const p = await api<Project>("POST", "/api/projects", {
        name, description, overlap, lease_seconds: lease, label_schema: text,
      });
      go(`/p/${p.id}/manage`);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <main class="new-project">
      <h1>New project</h1>
      <form onSubmit={create}>
        <div class="filters">
          <label>Name<input name="name" value={name} required onInput={(e) => setName(e.currentTarget.value)} /></label>
          <label>Description<input value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
          <label>Answers per item<input type="number" min="1" max="100" value={overlap}
            onInput={(e) => setOverlap(Number(e.currentTarget.value))} /></label>
          <label>Lease (seconds)<input type="number" min="1" value={lease}
            onInput={(e) => setLease(Number(e.currentTarget.value))} /></label>
        </div>
        <div class="editor">
          <div>
            <label>
              Label schema (YAML or JSON; see docs/schema.md)
              <textarea name="schema" spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            {invalid ? (
              <ul class="problems" role="alert" aria-label="schema problems">
                {problems.map((p) => <li>{problemText(p)}</li>)}
              </ul>
            ) : (
              <p class="muted" role="status">{schema ? "The schema is valid." : "Checking…"}</p>
            )}
          </div>
          <div class={`preview${stale ? " stale" : ""}`} aria-label="preview of the annotator's view"
            aria-describedby={stale ? "preview-stale" : undefined}>
            <h2>Preview</h2>
            {stale && (
              <p class="notice" id="preview-stale" role="status">
                Out of date: this is the last valid schema. Fix the problems to see your changes.
              </p>
            )}
            {schema && <div class="preview-body" inert={stale}><Preview schema={schema} /></div>}
          </div>
        </div>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="buttons">
          <button type="submit" class="primary" disabled={invalid} aria-describedby={invalid ? "create-why" : undefined}>
            Create project
          </button>
          <a class="button" href="#/">Cancel</a>
        </div>
        {invalid && <p class="muted" id="create-why">Fix the problems in the schema to create the project.</p>}
      </form>
    </main>
  );
}
