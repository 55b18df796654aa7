/**
 * Rewrite (docs/feedback.md): the annotator edits a response into a better one. The value is
 * `{"response": id, "text": …}`; the server computes and keeps the diff (the page's own, shown
 * live under the editor, is only for reading). The editor starts from the response's text;
 * "Reset to original" (or undo) takes the edits back; < > pick another response to rewrite.
 */

import { useEffect, useMemo, useRef } from "preact/hooks";
import { CandidatePanes } from "../feedback/Panes";
import { DiffView } from "../feedback/DiffView";
import { lastShown, rememberShown, shownFor, type Shown } from "../feedback/candidates";
import { changedCount, charDiff } from "../feedback/diff";
import type { RewriteQuestion } from "../types";
import { title, type Kind, type KeyResult, type QuestionUi, type ViewProps } from "./kind";

export interface RewriteValue {
  response: string;
  text: string;
}

export function asRewrite(value: unknown): RewriteValue | null {
  const v = value as Partial<RewriteValue> | null | undefined;
  return v && typeof v.response === "string" && typeof v.text === "string" ? (v as RewriteValue) : null;
}

/** The response being rewritten: the value's, else the one picked, else the first shown. */
export function selectedResponse(shown: Shown[], value: unknown, ui: QuestionUi): Shown | null {
  const want = asRewriteOrSpans(value) ?? ui.response;
  return shown.find((s) => s.candidate.id === want) ?? shown[0] ?? null;
}

function asRewriteOrSpans(value: unknown): string | undefined {
  const r = (value as { response?: unknown } | null | undefined)?.response;
  return typeof r === "string" ? r : undefined;
}

/** < and > step through the responses (shared with flagged words). */
export function stepResponse(shown: Shown[], current: Shown | null, key: string): Shown | null {
  if ((key !== "<" && key !== ">") || shown.length < 2 || !current) return null;
  const i = shown.indexOf(current);
  return shown[(i + (key === ">" ? 1 : shown.length - 1)) % shown.length]!;
}

function Target({ q, value, data, ui, setUi, activate }: ViewProps<RewriteQuestion>) {
  const { shown } = shownFor(data, q.target);
  const at = selectedResponse(shown, value, ui);
  const edited = asRewrite(value) !== null;
  return (
    <CandidatePanes panes={shown.map((s) => ({
      shown: s,
      mark: s === at ? "selected" as const : undefined,
      note: s === at ? (edited ? "being rewritten" : "to rewrite") : undefined,
      // Another response is picked by a click, unless edits would be lost (undo would bring them back, but still).
      onClick: s === at || edited ? undefined : () => {
        activate();
        setUi({ ...ui, response: s.candidate.id });
      },
    }))} />
  );
}

function View({ q, value, set, data, ui, setUi, focus }: ViewProps<RewriteQuestion>) {
  const { shown } = shownFor(data, q.target);
  rememberShown(q, shown);
  const at = selectedResponse(shown, value, ui);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (focus && ref.current && document.activeElement !== ref.current) ref.current.focus();
  }, [focus]);
  const original = at?.candidate.content ?? "";
  const v = asRewrite(value);
  const text = v && v.response === at?.candidate.id ? v.text : original;
  const ops = useMemo(() => charDiff(original, text), [original, text]);
  if (!at) return <p class="notice">This item has no response to rewrite.</p>;
  // Edits belong to one response: another is picked after "Reset to original" (nothing is lost by a stray click).
  const pick = (s: Shown) => setUi({ ...ui, response: s.candidate.id });
  return (
    <div class="rewrite">
      {shown.length > 1 && (
        <div class="options" role="radiogroup" aria-label="response to rewrite">
          {shown.map((s) => (
            <button type="button" role="radio" aria-checked={s === at} class={s === at ? "option on" : "option"}
              disabled={!!v && s !== at} title={v && s !== at ? "Reset the rewrite first" : undefined}
              onClick={() => pick(s)}>
              {`Response ${s.letter}`}
            </button>
          ))}
        </div>
      )}
      <textarea
        ref={ref}
        class="text-answer rewrite-text"
        aria-label={`${title(q)}: Response ${at.letter}, rewritten`}
        rows={Math.min(16, Math.max(4, text.split("\n").length + 1))}
        value={text}
        onInput={(e) => {
          const t = (e.currentTarget as HTMLTextAreaElement).value;
          // Back to the original is no rewrite at all.
          set(t === original ? undefined : { response: at.candidate.id, text: t });
        }}
      />
      <button type="button" class="link" disabled={!v} onClick={() => set(undefined)}>Reset to original</button>
      <DiffView ops={ops} label={`changes to Response ${at.letter}`} />
    </div>
  );
}

function onKey(
  q: RewriteQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
): KeyResult | null {
  if (!active) return null;
  const { shown } = shownFor(data, q.target);
  const next = stepResponse(shown, selectedResponse(shown, value, ui), key);
  if (!next) return null;
  if (asRewrite(value)) return { message: "This response is being rewritten: reset it first to rewrite another." };
  return { ui: { ...ui, response: next.candidate.id } };
}

export const rewrite: Kind<RewriteQuestion> = {
  View,
  Target,
  onKey,
  problem(q, value) {
    const v = asRewrite(value);
    const original = lastShown(q)?.find((s) => s.candidate.id === v?.response)?.candidate.content;
    if (!v || !q.min_change || original === undefined) return null;
    const changed = changedCharacters(original, v.text);
    return changed < q.min_change ? `change at least ${q.min_change} characters (${changed} so far)` : null;
  },
  given: (value) => asRewrite(value) !== null,
};

/** Characters changed by a rewrite, as the server counts them (its own diff may differ a little). */
export function changedCharacters(original: string, text: string): number {
  return changedCount(charDiff(original, text));
}
