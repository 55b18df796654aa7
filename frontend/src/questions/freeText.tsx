/** Free text: typed into a field; Ctrl+Enter submits from inside it, Escape leaves it. */

import { useEffect, useRef } from "preact/hooks";
import type { TextQuestion } from "../types";
import { title, type Kind, type ViewProps } from "./kind";

function View({ q, value, set, focus }: ViewProps<TextQuestion>) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  // Only when moved to on purpose: after a pick moves on, Enter must still submit.
  useEffect(() => {
    if (focus && ref.current && document.activeElement !== ref.current) ref.current.focus();
  }, [focus]);
  const props = {
    ref,
    class: "text-answer",
    "aria-label": title(q),
    maxLength: q.max_length,
    value: typeof value === "string" ? value : "",
    onInput: (e: Event) => {
      const text = (e.currentTarget as HTMLInputElement).value;
      set(text === "" ? undefined : text);
    },
  };
  return q.multiline === false ? <input type="text" {...props} /> : <textarea rows={3} {...props} />;
}

export const freeText: Kind<TextQuestion> = {
  View,
  problem(q, value) {
    const n = typeof value === "string" ? [...value].length : 0;
    if (value !== undefined && q.min_length && n < q.min_length) return `at least ${q.min_length} characters`;
    return null;
  },
};
