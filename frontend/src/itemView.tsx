/**
 * An item's content. Item data is untrusted: it is only ever put into the page as text
 * (Preact creates text nodes), never as HTML, and the page's CSP forbids HTML sinks anyway.
 */

import type { ComponentChildren } from "preact";
import { Media } from "./media";
import type { FieldSpec } from "./types";

function asText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function Field({ field, value }: { field: FieldSpec; value: unknown }) {
  if (field.type === "conversation" && Array.isArray(value)) {
    return (
      <ol class="conversation">
        {value.map((m) => {
          const msg = (m ?? {}) as { role?: unknown; content?: unknown };
          return (
            <li class="message">
              <span class="role">{asText(msg.role)}</span>
              <span class="content">{asText(msg.content)}</span>
            </li>
          );
        })}
      </ol>
    );
  }
  if (field.type === "image" || field.type === "audio" || field.type === "video") {
    return <Media field={field} value={value} />;
  }
  return <div class="field-text">{asText(value)}</div>;
}

const HIDDEN_META = new Set(["prelabel"]);

export interface ItemViewProps {
  fields: FieldSpec[];
  data: Record<string, unknown>;
  meta?: Record<string, unknown> | undefined;
  /** What to show in a field's place instead of its plain content (a spans question's text to tag). */
  content?: ((field: FieldSpec) => ComponentChildren | undefined) | undefined;
}

export function ItemView(p: ItemViewProps) {
  const meta = Object.entries(p.meta ?? {}).filter(([k]) => !HIDDEN_META.has(k));
  if (!p.fields.length && !meta.length) return null;
  return (
    <section class="item" aria-label="item">
      {p.fields.map((f) => (
        <div class="field" data-field={f.name}>
          {/* Labelled even when it is the only field: nobody should have to guess what the text is. */}
          <h3 class="field-label">{f.label || f.name}</h3>
          {p.content?.(f) ?? <Field field={f} value={p.data[f.name]} />}
        </div>
      ))}
      {meta.length > 0 && (
        <dl class="meta">
          {meta.map(([k, v]) => (
            <div>
              <dt>{k}</dt>
              <dd>{asText(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
