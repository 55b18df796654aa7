/** Rating: a point on a scale; on a scale within 0..9 the digit is the value itself. */

import type { RatingQuestion } from "../types";
import { title, type Kind, type ViewProps } from "./kind";

function points(q: RatingQuestion): number[] {
  const out: number[] = [];
  for (let v = q.min; v <= q.max; v++) out.push(v);
  return out;
}

function valueForKey(q: RatingQuestion, key: string): number | null {
  if (!/^[0-9]$/.test(key)) return null;
  const d = Number(key);
  if (q.min >= 0 && q.max <= 9) return d >= q.min && d <= q.max ? d : null;
  const v = q.min + d - 1; // otherwise the n-th point
  return d >= 1 && v <= q.max ? v : null;
}

function View({ q, value, set }: ViewProps<RatingQuestion>) {
  const words = q.labels ?? {};
  return (
    <div class="options rating" role="radiogroup" aria-label={title(q)}>
      {points(q).map((v) => {
        const on = value === v;
        const word = words[String(v)];
        return (
          <button
            type="button"
            role="radio"
            aria-checked={on}
            class={on ? "option point on" : "option point"}
            onClick={() => set(on ? undefined : v)}
          >
            <span class="point-value">{String(v)}</span>
            {word && <span class="point-word">{word}</span>}
          </button>
        );
      })}
    </div>
  );
}

export const rating: Kind<RatingQuestion> = {
  View,
  onKey(q, _value, key, active) {
    if (!active) return null;
    const v = valueForKey(q, key);
    return v === null ? null : { value: v, advance: true };
  },
  problem: () => null,
};
