/**
 * Ranking (docs/feedback.md): the responses in order, best first, as `{"order": [ids]}`; with
 * `partial`, only those the annotator placed. Ordered by dragging a row (pointer events, so a
 * mouse, a pen and a finger all work) or by keys: a digit picks the response in that row and
 * gives it the keyboard focus; then ↑ ↓ move it, a digit puts it in that place, Delete takes it
 * out of a partial ranking, Escape lets go (and ↓ ↑ move between questions again).
 *
 * A full ranking starts in this person's shuffled order but is not an answer until the
 * annotator moves something or says the order is right, so nobody submits the shuffle by accident.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { CandidatePanes } from "../feedback/Panes";
import { shownFor, type Shown } from "../feedback/candidates";
import type { RankingQuestion } from "../types";
import { digit, title, type Kind, type KeyResult, type QuestionUi, type ViewProps } from "./kind";

/** Where ranked rows end in a partial ranking (a row of its own, that rows move across). */
const CUT = "\u0000cut";

export function orderOf(value: unknown): string[] | null {
  const o = (value as { order?: unknown } | null | undefined)?.order;
  return Array.isArray(o) && o.every((x) => typeof x === "string") ? o : null;
}

/** The rows as shown: ranked ids, then (partial) the cut and the unranked ids. */
function rowsOf(q: RankingQuestion, value: unknown, shown: Shown[]): string[] {
  const ids = shown.map((s) => s.candidate.id);
  const order = (orderOf(value) ?? (q.partial ? [] : ids)).filter((id) => ids.includes(id));
  const rest = ids.filter((id) => !order.includes(id));
  return q.partial ? [...order, CUT, ...rest] : [...order, ...rest];
}

/** The value for a list of rows: everything above the cut, in order. */
function valueOf(rows: string[]): { order: string[] } {
  const cut = rows.indexOf(CUT);
  return { order: cut < 0 ? rows : rows.slice(0, cut) };
}

/** `rows` with `id` moved to index `to` (of the list without it). */
function moved(rows: string[], id: string, to: number): string[] {
  const rest = rows.filter((r) => r !== id);
  const at = Math.max(0, Math.min(rest.length, to));
  return [...rest.slice(0, at), id, ...rest.slice(at)];
}

/** `rows` after `id` is put in place `place` (1-based) of the ranking. */
function placed(rows: string[], id: string, place: number): string[] {
  const ranked = valueOf(rows.filter((r) => r !== id)).order.length;
  return moved(rows, id, Math.min(place - 1, ranked));
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${s}`;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 90 ? `${flat.slice(0, 90)}…` : flat;
}

function Target({ q, value, data }: ViewProps<RankingQuestion>) {
  const { shown } = shownFor(data, q.target);
  const order = orderOf(value) ?? [];
  return (
    <CandidatePanes panes={shown.map((s) => {
      const at = order.indexOf(s.candidate.id);
      return { shown: s, note: at >= 0 ? `ranked ${ordinal(at + 1)}` : undefined, mark: at === 0 ? "chosen" as const : undefined };
    })} />
  );
}

interface Drag {
  id: string;
  pointer: number;
  startY: number;
  /** Where it would land (index in the rows without it), once the pointer has really moved. */
  to: number | null;
}

function View({ q, value, set, data, ui, setUi, active, focus, activate }: ViewProps<RankingQuestion>) {
  const { shown } = shownFor(data, q.target);
  const byId = new Map(shown.map((s) => [s.candidate.id, s]));
  const rows = rowsOf(q, value, shown);
  const list = useRef<HTMLOListElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const given = orderOf(value) !== null;

  // A digit pressed on the page (onKey) or arriving here on purpose hands the keyboard to a row.
  useEffect(() => {
    if (!active || (!focus && ui.grab === undefined)) return;
    const row = list.current?.querySelectorAll<HTMLElement>("li[data-response]")[ui.caret ?? 0];
    if (row && document.activeElement !== row) row.focus();
  }, [active, focus, ui.grab]);

  const commit = (next: string[]) => set(valueOf(next));

  const onRowKey = (e: KeyboardEvent, id: string) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const at = rows.indexOf(id);
    let next: string[] | null = null;
    if (e.key === "ArrowUp" || e.key === "ArrowDown") next = moved(rows, id, at + (e.key === "ArrowUp" ? -1 : 1));
    else if (digit(e.key) !== null) next = placed(rows, id, digit(e.key)!);
    else if ((e.key === "Delete" || e.key === "0") && q.partial) next = moved(rows, id, rows.length);
    else if (e.key === "Escape") {
      (e.currentTarget as HTMLElement).blur();
    } else return;
    // Handled here: the page's own keys (↓ ↑ between questions, digits for other questions) wait.
    e.preventDefault();
    e.stopPropagation();
    if (next) commit(next);
  };

  const rowIndexAt = (y: number, without: string): number => {
    const els = [...(list.current?.querySelectorAll<HTMLElement>("li[data-row]") ?? [])]
      .filter((el) => el.dataset.row !== without);
    return els.filter((el) => {
      const r = el.getBoundingClientRect();
      return r.top + r.height / 2 < y;
    }).length;
  };

  const onPointerDown = (e: PointerEvent, id: string) => {
    if (e.button !== 0) return;
    activate();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDrag({ id, pointer: e.pointerId, startY: e.clientY, to: null });
  };
  const onPointerMove = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.pointer) return;
    if (drag.to === null && Math.abs(e.clientY - drag.startY) < 4) return;
    const to = rowIndexAt(e.clientY, drag.id);
    if (to !== drag.to) setDrag({ ...drag, to });
  };
  const onPointerUp = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.pointer) return;
    if (drag.to !== null) commit(moved(rows, drag.id, drag.to));
    setDrag(null);
  };

  // While dragging, the rows stay put (moving the captured row in the document would lose the
  // pointer) and a line shows where it would land.
  const others = drag ? rows.filter((r) => r !== drag.id) : rows;
  const dropBefore = drag && drag.to !== null && drag.to < others.length ? others[drag.to] : null;
  const dropAfter = drag && drag.to !== null && drag.to >= others.length ? others[others.length - 1] : null;
  const drop = (id: string) => (id === dropBefore ? " drop-before" : id === dropAfter ? " drop-after" : "");
  const cut = rows.indexOf(CUT);
  return (
    <div class="ranking">
      <ol class="rank-list" ref={list} aria-label={`${title(q)}: best first`}>
        {rows.map((id, i) => {
          if (id === CUT) {
            return <li class={`rank-cut${drop(CUT)}`} data-row={CUT} key={CUT}>{i === 0 ? "Not ranked yet: drag a response above this line, or press its place" : "Not ranked"}</li>;
          }
          const s = byId.get(id)!;
          const place = cut < 0 || i < cut ? i + 1 : null;
          return (
            <li
              key={id}
              data-row={id}
              data-response={id}
              tabIndex={0}
              class={`rank-row${drag?.id === id ? " dragging" : ""}${place === null ? " unranked" : ""}${drop(id)}`}
              aria-label={`Response ${s.letter}, ${place === null ? "not ranked" : `${ordinal(place)}`}`}
              onKeyDown={(e) => onRowKey(e, id)}
              onFocus={() => {
                activate();
                const row = rows.filter((r) => r !== CUT).indexOf(id);
                if (ui.caret !== row) setUi({ ...ui, caret: row });
              }}
              onPointerDown={(e) => onPointerDown(e, id)}
              onPointerMove={onPointerMove}
              onPointerUp={onPointerUp}
              onPointerCancel={() => setDrag(null)}
            >
              <span class="grip" aria-hidden="true">⠿</span>
              <span class="rank-place">{place === null ? "–" : `${place}.`}</span>
              <span class="rank-name">{`Response ${s.letter}`}</span>
              <span class="rank-preview muted">{preview(s.candidate.content)}</span>
            </li>
          );
        })}
      </ol>
      {!q.partial && (
        <button type="button" class="link" disabled={given} onClick={() => commit(rows)}>
          {given ? "Ranked" : "This order is right"}
        </button>
      )}
      <p class="muted rank-hint">Drag a row, or press its number and then ↑ ↓ to move it, or a number to place it; Esc lets go.</p>
    </div>
  );
}

function onKey(
  q: RankingQuestion, _value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
): KeyResult | null {
  if (!active) return null;
  const n = digit(key);
  const count = shownFor(data, q.target).shown.length;
  if (n === null || n > count) return null;
  // The row the digit names takes the keyboard focus (the view's effect): keys there move it.
  return { ui: { ...ui, caret: n - 1, grab: (ui.grab ?? 0) + 1 } };
}

export const ranking: Kind<RankingQuestion> = {
  View,
  Target,
  onKey,
  problem(q, value) {
    const order = orderOf(value) ?? [];
    if (new Set(order).size !== order.length) return "a response is ranked twice";
    if (q.partial && !order.length) return "rank at least one response";
    return null;
  },
  given: (value) => (orderOf(value)?.length ?? 0) > 0,
};
