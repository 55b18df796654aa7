/** Multiple choice: number keys (or the options' keys) toggle options. */

import type { MultiChoiceQuestion } from "../types";
import { optionKey, pickByKey } from "./choice";
import { title, type Kind, type ViewProps } from "./kind";

function toggled(q: MultiChoiceQuestion, value: unknown, option: string): string[] {
  const now = new Set(Array.isArray(value) ? (value as string[]) : []);
  if (now.has(option)) now.delete(option);
  else now.add(option);
  return q.options.map((o) => o.value).filter((v) => now.has(v)); // the schema's order
}

function View({ q, value, set }: ViewProps<MultiChoiceQuestion>) {
  const chosen = new Set(Array.isArray(value) ? (value as string[]) : []);
  return (
    <div class="options" role="group" aria-label={title(q)}>
      {q.options.map((o, i) => {
        const on = chosen.has(o.value);
        const k = optionKey(q.options, i);
        return (
          <button
            type="button"
            role="checkbox"
            aria-checked={on}
            class={on ? "option on" : "option"}
            title={o.hint ?? undefined}
            onClick={() => set(toggled(q, value, o.value))}
          >
            {k && <kbd aria-hidden="true">{k}</kbd>}
            <span>{o.label || o.value}</span>
          </button>
        );
      })}
    </div>
  );
}

export const multiChoice: Kind<MultiChoiceQuestion> = {
  View,
  onKey(q, value, key, active) {
    const i = pickByKey(q.options, key, active);
    return i === null ? null : { value: toggled(q, value, q.options[i]!.value) };
  },
  problem(q, value) {
    const n = Array.isArray(value) ? value.length : 0;
    if (q.min_selected && n < q.min_selected) return `choose at least ${q.min_selected}`;
    if (q.max_selected && n > q.max_selected) return `choose at most ${q.max_selected}`;
    return null;
  },
};
