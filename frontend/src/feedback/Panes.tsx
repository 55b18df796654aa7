/**
 * How a language-model item is laid out: the prompt (Markdown) or the conversation (each turn
 * under its role, scrolling inside its own pane with the last turn in view), then the candidate
 * responses side by side or stacked. All content is untrusted and goes through `Markdown`.
 */

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { Markdown } from "../markdown/render";
import type { FieldSpec, LabelSchema } from "../types";
import { contentText, shownFor, type Shown } from "./candidates";
import { setLayoutMode, useLayoutMode } from "./layout";

export interface Pane {
  shown: Shown;
  /** How the question marks it: the preferred one, the other one, a tie, the one being edited. */
  mark?: "chosen" | "other" | "tie" | "selected" | undefined;
  /** Shown in the pane's header after the name (a rank, a badge). */
  note?: string | undefined;
  /** Replaces the rendered content (the spans widget shows the text to tag). */
  body?: ComponentChildren;
  onClick?: (() => void) | undefined;
}

function LayoutToggle() {
  const mode = useLayoutMode();
  return (
    <div class="layout-toggle" role="group" aria-label="layout of the responses">
      <button type="button" class="link" aria-pressed={mode === "columns"} onClick={() => setLayoutMode("columns")}>
        Side by side
      </button>
      <button type="button" class="link" aria-pressed={mode === "stacked"} onClick={() => setLayoutMode("stacked")}>
        Stacked
      </button>
    </div>
  );
}

/** The candidates in panes, each titled "Response A", "Response B", …, and the layout toggle. */
export function CandidatePanes({ panes, empty }: { panes: Pane[]; empty?: string }) {
  const mode = useLayoutMode();
  if (!panes.length) return <p class="notice">{empty ?? "This item has no responses."}</p>;
  return (
    <section class="candidates-area" aria-label="responses">
      <LayoutToggle />
      <div class={`candidates ${mode}`}>
        {panes.map((p) => (
          <article
            class={`candidate${p.mark ? ` ${p.mark}` : ""}`}
            aria-label={`Response ${p.shown.letter}`}
            data-response={p.shown.candidate.id}
            onClick={p.onClick}
          >
            <header class="candidate-head">
              <span class="candidate-name">{`Response ${p.shown.letter}`}</span>
              {p.note && <span class="candidate-note">{p.note}</span>}
            </header>
            <div class="candidate-body">{p.body ?? <Markdown source={p.shown.candidate.content} />}</div>
          </article>
        ))}
      </div>
    </section>
  );
}

const ROLES: Record<string, string> = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" };

/** A conversation, oldest turn first, scrolled so that the last turn shows. */
export function ConversationPane({ messages }: { messages: unknown }) {
  const list = Array.isArray(messages) ? messages : [];
  const ref = useRef<HTMLOListElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages]);
  if (!list.length) return <p class="muted">No messages.</p>;
  return (
    <ol class="chat" ref={ref} tabIndex={0} aria-label="conversation">
      {list.map((m) => {
        const msg = (m ?? {}) as { role?: unknown; content?: unknown };
        const role = typeof msg.role === "string" ? msg.role : "";
        // Class names come from a fixed list, never from the data.
        const known = Object.hasOwn(ROLES, role);
        return (
          <li class={`turn role-${known ? role : "other"}`}>
            <span class="turn-role">{known ? ROLES[role] : role || "(no role)"}</span>
            <Markdown source={contentText(msg.content)} />
          </li>
        );
      })}
    </ol>
  );
}

/**
 * A field of a language-model item as this page shows it, or undefined to leave it to the
 * plain item view: schemas with a `responses` field have their text fields (the prompt) as
 * Markdown, their conversation in a scrolling pane, and their responses as panes.
 */
export function feedbackField(
  schema: LabelSchema, field: FieldSpec, data: Record<string, unknown>,
): ComponentChildren | undefined {
  if (!schema.fields.some((f) => f.type === "responses")) return undefined;
  const value = data[field.name];
  if (field.type === "conversation") return <ConversationPane messages={value} />;
  if (field.type === "text") return <Markdown source={contentText(value)} class="prompt" />;
  if (field.type === "responses") {
    return <CandidatePanes panes={shownFor(data, field.name).shown.map((shown) => ({ shown }))} />;
  }
  return undefined;
}
