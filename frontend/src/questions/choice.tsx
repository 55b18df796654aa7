/** Single choice: one option; number keys or the option's own key pick it. */

import type { ChoiceQuestion, Option } from "../types";
import { digit, title, type Kind, type ViewProps } from "./kind";

export function optionKey(options: Option[], i: number): string {
  const o = options[i]!;
  if (o.key) return o.key;
  const anyExplicit = options.some((x) => x.key);
  return !anyExplicit && i < 9 ? String(i + 1) : "";
}

export function pickByKey(options: Option[], key: string, active: boolean): number | null {
  const explicit = options.findIndex((o) => o.key === key);
  if (explicit >= 0) return explicit;
  const n = digit(key);
  if (active && n !== null && n <= options.length && !options.some((o) => o.key)) return n - 1;
  return null;
}

function View({ q, value, set }: ViewProps<ChoiceQuestion>) {
  return (
    <div class="options" role="radiogroup" aria-label={title(q)}>
      {q.options.map((o, i) => {
        const on = value === o.value;
        const k = optionKey(q.options, i);
        return (
          <button
            type="button"
            role="radio"
            aria-checked={on}
            class={on ? "option on" : "option"}
            title={o.hint ?? undefined}
            onClick={() => set(on ? undefined : o.value)}
          >
            {k && <kbd aria-hidden="true">{k}</kbd>}
            <span>{o.label || o.value}</span>
          </button>
        );
      })}
    </div>
  );
}

export const choice: Kind<ChoiceQuestion> = {
  View,
  onKey(q, _value, key, active) {
    const i = pickByKey(q.options, key, active);
    return i === null ? null : { value: q.options[i]!.value, advance: true };
  },
  problem: () => null,
};
