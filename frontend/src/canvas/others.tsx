/**
 * Other values of a shape question, drawn on the same image as the answer being made
 * (questions/kind.ts: OtherValue):
 *
 * - the model's suggestion, until it is taken: its objects dashed in the model's colour, each
 *   one accepted by a click (or y, after n picks it) or dismissed (x); A, on the page, applies
 *   the whole suggestion. An accepted object is the suggested object itself in the answer, and
 *   its edited copies remember where they came from (`ShapeUi.origin`, carried like the flags),
 *   so it is not offered again; neither is an object the answer already holds as it is.
 * - in the review queue, each person's answer and (managers only) the gold answer: one colour
 *   per person, named in a legend with a toggle each and a button that starts the decision from
 *   that person's objects. These are for looking: the pointer goes through them.
 */

import { Component } from "preact";
import type { OtherValue } from "../questions/kind";
import { title } from "../questions/kind";
import type { ShapeQuestion } from "../types";
import type { Family } from "./family";
import { shapesOf, type Shape, type ShapeUi } from "./shape";
import { shapesText } from "./words";

/** The model's suggested objects for this question ([] when there is no suggestion). */
export function suggestedShapes(others: OtherValue[] | undefined): Shape[] {
  const m = others?.find((o) => o.kind === "model");
  return m ? shapesOf(m.value) : [];
}

export function modelOf(others: OtherValue[] | undefined): OtherValue | undefined {
  return others?.find((o) => o.kind === "model");
}

/** Other people's answers (and gold): the layers of the review queue. */
export function answerLayers(others: OtherValue[] | undefined): OtherValue[] {
  return (others ?? []).filter((o) => o.kind !== "model");
}

// The objects of an answer as JSON texts, once per list: an object equal to a suggested one
// (a draft brought back from storage holds copies) counts as taken.
const texts = new WeakMap<Shape[], Set<string>>();

function textsOf(shapes: Shape[]): Set<string> {
  let t = texts.get(shapes);
  if (!t) {
    t = new Set(shapes.map((o) => JSON.stringify(o)));
    texts.set(shapes, t);
  }
  return t;
}

// Open suggestions, once per (answer, suggestion, ui maps): the stage asks on every frame of a drag.
const openCache = new WeakMap<Shape[], { sug: Shape[]; origin: unknown; dismissed: unknown; open: number[] }>();

/**
 * Indices of the suggested objects still to decide: not in the answer (as themselves, as an
 * edited copy of an accepted one, or as an equal object) and not dismissed.
 */
export function openSuggestions(sug: Shape[], shapes: Shape[], ui: ShapeUi): number[] {
  if (!sug.length) return [];
  const hit = openCache.get(shapes);
  if (hit && hit.sug === sug && hit.origin === ui.origin && hit.dismissed === ui.dismissed) return hit.open;
  const held = new Set<Shape>();
  for (const o of shapes) {
    held.add(o);
    const from = ui.origin?.get(o);
    if (from) held.add(from);
  }
  const equal = textsOf(shapes);
  const open = sug.flatMap((s, k) =>
    held.has(s) || ui.dismissed?.has(s) || equal.has(JSON.stringify(s)) ? [] : [k]);
  openCache.set(shapes, { sug, origin: ui.origin, dismissed: ui.dismissed, open });
  return open;
}

/** The suggested object that y and x act on: the one picked (n, or the list), else the first open. */
export function pickedSuggestion(open: number[], ui: ShapeUi): number | null {
  return ui.pick !== undefined && ui.pick !== null && open.includes(ui.pick) ? ui.pick : open[0] ?? null;
}

/** The open suggestion after `k` (round), or null. */
function after(open: number[], k: number): number | null {
  const rest = open.filter((j) => j !== k);
  return rest.find((j) => j > k) ?? rest[0] ?? null;
}

/** The answer with suggested object `k` accepted: added as a normal object, and selected. */
export function acceptSuggestion(shapes: Shape[], ui: ShapeUi, sug: Shape[], open: number[], k: number):
  { value: Shape[]; ui: ShapeUi } {
  const s = sug[k]!;
  const origin = new Map(ui.origin);
  origin.set(s, s);
  const left = open.length - 1;
  return {
    value: [...shapes, s],
    ui: {
      ...ui, origin, selected: shapes.length, handle: null, pick: after(open, k),
      notice: `Suggested object ${k + 1} accepted as object ${shapes.length + 1}${left ? `; ${left} suggested left` : ""}.`,
    },
  };
}

export function dismissSuggestion(ui: ShapeUi, sug: Shape[], open: number[], k: number): ShapeUi {
  const dismissed = new Set(ui.dismissed);
  dismissed.add(sug[k]!);
  const left = open.length - 1;
  return { ...ui, dismissed, pick: after(open, k), notice: `Suggested object ${k + 1} dismissed${left ? `; ${left} left` : ""}.` };
}

/** The answer with every open suggestion added (the annotator's own objects stay). */
export function acceptAll(shapes: Shape[], ui: ShapeUi, sug: Shape[], open: number[]): { value: Shape[]; ui: ShapeUi } {
  const origin = new Map(ui.origin);
  for (const k of open) origin.set(sug[k]!, sug[k]!);
  return {
    value: [...shapes, ...open.map((k) => sug[k]!)],
    ui: { ...ui, origin, pick: null, notice: `${open.length} suggested object${open.length === 1 ? "" : "s"} accepted.` },
  };
}

/** The colour class of the i-th person's layer (gold has its own). */
export function layerColour(o: OtherValue, i: number): string {
  return o.kind === "gold" ? "who-gold" : `who-${i % 8}`;
}

interface LayersProps {
  family: Family;
  q: ShapeQuestion;
  others: OtherValue[] | undefined;
  open: number[];
  pick: number | null;
  /** Ids of the layers switched off. */
  off: ReadonlySet<string> | undefined;
}

const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) =>
  a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]));

/** An object drawn from someone else's value: a malformed one is left out, not allowed to break the page. */
function drawn(family: Family, o: Shape, q: ShapeQuestion) {
  try {
    return family.render(o, q);
  } catch {
    return null;
  }
}

/** Everyone else's objects, under the answer's own; drawn again only when they change. */
export class OtherLayers extends Component<LayersProps> {
  shouldComponentUpdate(next: LayersProps): boolean {
    const p = this.props;
    const values = (l: OtherValue[] | undefined) => l?.map((o) => o.value);
    return p.family !== next.family || p.q !== next.q || p.pick !== next.pick || p.off !== next.off ||
      !sameList(p.open, next.open) || !sameList(values(p.others), values(next.others));
  }

  render({ family, q, others, open, pick, off }: LayersProps) {
    const model = modelOf(others);
    const sug = shapesOf(model?.value);
    return (
      <g class="others">
        {answerLayers(others).map((layer, i) => off?.has(layer.id) ? null : (
          <g class={`other ${layerColour(layer, i)}`} data-layer={layer.id}>
            {shapesOf(layer.value).map((o) => <g class="oth">{drawn(family, o, q)}<title>{`${layer.who}: ${o.label}`}</title></g>)}
          </g>
        ))}
        {model && !off?.has(model.id) && (
          <g class="other suggestion-layer" data-layer={model.id}>
            {open.map((k) => (
              <g class={`oth sug${k === pick ? " picked" : ""}`} data-sug={k}>
                {drawn(family, sug[k]!, q)}
                <title>{`suggested ${sug[k]!.label}: click to accept`}</title>
              </g>
            ))}
          </g>
        )}
      </g>
    );
  }
}

/**
 * Under the image: who is drawn in which colour (names as text), a toggle each, and a button to
 * start from that person's objects; for a suggestion, how many objects are left and the keys.
 */
export function OthersLegend({ q, others, open, off, setOff, startFrom, acceptRest }: {
  q: ShapeQuestion;
  others: OtherValue[] | undefined;
  open: number[];
  off: ReadonlySet<string> | undefined;
  setOff: (id: string, hidden: boolean) => void;
  startFrom: (layer: OtherValue) => void;
  acceptRest: () => void;
}) {
  const layers = answerLayers(others);
  const model = modelOf(others);
  if (!layers.length && !(model && open.length)) return null;
  const toggle = (o: OtherValue) => (
    <input type="checkbox" checked={!off?.has(o.id)} aria-label={`show the objects of ${o.who}`}
      onChange={(e) => setOff(o.id, !(e.currentTarget as HTMLInputElement).checked)} />
  );
  return (
    <div class="others-legend">
      {model && open.length > 0 && (
        <p class="suggestion-legend" data-layer={model.id}>
          <label>{toggle(model)} <span class="swatch sug" aria-hidden="true" />{` ${model.who} suggests ${open.length} more `
            + `object${open.length === 1 ? "" : "s"} (dashed): click one or press y to accept it, x to dismiss it, n for the next.`}</label>{" "}
          <button type="button" class="link" onClick={acceptRest}>Accept all suggested objects</button>
        </p>
      )}
      {layers.length > 0 && (
        <ul class="layer-list" aria-label={`${title(q)}: answers drawn on the image`}>
          {layers.map((o, i) => (
            <li data-layer={o.id}>
              <label>
                {toggle(o)} <span class={`swatch ${layerColour(o, i)}`} aria-hidden="true" />
                <span class="who">{o.who}</span>
                <span class="muted">{` ${shapesText(o.value, q)}`}</span>
              </label>{" "}
              <button type="button" class="link" onClick={() => startFrom(o)}
                aria-label={`start ${title(q)} from the objects of ${o.who}`}>start from these</button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
