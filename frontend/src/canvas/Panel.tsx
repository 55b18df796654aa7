/**
 * A shape question's own part of the form, under the item: the class for new objects (keys
 * like span labels), how to draw, and the objects, each with its class, hide / lock / remove,
 * and, for the selected one, its attributes; the model's suggested objects still to decide,
 * each with accept / dismiss; for masks, the buttons of "propose a mask".
 */

import type { ShapeQuestion } from "../types";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import { ObjectAttribute } from "../questions/ObjectAttribute";
import type { Family } from "./family";
import { acceptSuggestion, dismissSuggestion, modelOf, openSuggestions, pickedSuggestion, suggestedShapes } from "./others";
import { proposeKey } from "./propose";
import {
  colourOf, flagsOf, HIDDEN, labelKey, labelName, LOCKED, noteValue, replaced, selectedIndex,
  shapesOf, withFlag, withFlagsOf, type Shape, type ShapeUi,
} from "./shape";

export interface PanelProps extends ViewProps<ShapeQuestion> {
  family: Family;
}

export function Panel(props: PanelProps) {
  const { family, q, value, set } = props;
  const shapes = shapesOf(value);
  const ui: ShapeUi = props.ui.shape ?? {};
  const setUi = (u: ShapeUi) => props.setUi({ ...props.ui, shape: u });
  noteValue(q.name, value);
  const current = Math.min(ui.label ?? 0, q.labels.length - 1);
  const selected = selectedIndex(ui, shapes);

  const pickClass = (i: number) => {
    props.activate();
    const o = selected !== null ? shapes[selected] : undefined;
    if (!o || flagsOf(ui, o) & LOCKED) return setUi({ ...ui, label: i, notice: "" });
    const relabelled = { ...o, label: q.labels[i]!.value };
    set(replaced(shapes, selected!, relabelled));
    setUi({ ...withFlagsOf(ui, o, relabelled), label: i, notice: `Object ${selected! + 1} is now ${labelName(q.labels[i]!)}.` });
  };
  const setAttribute = (i: number, name: string, v: string | undefined) => {
    const o = shapes[i]!;
    const attributes = { ...o.attributes };
    if (v === undefined) delete attributes[name];
    else attributes[name] = v;
    const next: Shape = { ...o, attributes };
    if (!Object.keys(attributes).length) delete next.attributes;
    set(replaced(shapes, i, next));
    setUi(withFlagsOf(ui, o, next));
  };
  const toggle = (o: Shape, flag: number) => setUi(withFlag(ui, o, flag, !(flagsOf(ui, o) & flag)));
  const sug = suggestedShapes(props.others);
  const open = openSuggestions(sug, shapes, ui);
  const pick = pickedSuggestion(open, ui);
  const model = modelOf(props.others);
  const accept = (k: number) => {
    props.activate();
    if (shapes.length >= (q.max_objects ?? 1000)) return setUi({ ...ui, notice: `At most ${q.max_objects ?? 1000} objects.` });
    const r = acceptSuggestion(shapes, ui, sug, open, k);
    set(r.value);
    setUi(r.ui);
  };
  const proposeTool = (key: string) => {
    props.activate();
    const r = proposeKey(shapes, ui, key);
    if (!r) return;
    if (r.value) set(r.value);
    setUi(r.ui);
  };
  const remove = (i: number) => {
    set(shapes.filter((_, j) => j !== i));
    setUi({ ...ui, selected: null, handle: null, notice: `Object ${i + 1} removed.` });
  };

  return (
    <div class={`shapes${props.suggested ? " suggested" : ""}`}>
      <div class="span-labels" role="radiogroup" aria-label={`${title(q)}: class`}>
        {q.labels.map((l, i) => (
          <button
            type="button"
            role="radio"
            aria-checked={i === current}
            class={`option span-label lab-${i % 8}${i === current ? " on" : ""}`}
            onClick={() => pickClass(i)}
          >
            {labelKey(q.labels, i) && <kbd aria-hidden="true">{labelKey(q.labels, i)}</kbd>}
            <span>{labelName(l)}</span>
          </button>
        ))}
      </div>
      <p class="muted shape-hint">{family.hint}</p>
      <ol class="shape-list" aria-label={`${title(q)}: objects`}>
        {shapes.map((o, i) => {
          const f = flagsOf(ui, o);
          const label = q.labels.find((l) => l.value === o.label);
          const problem = family.problem?.(o, q);
          return (
            <li class={i === selected ? "sel" : undefined} data-obj={i}>
              <button type="button" class="link obj-pick" aria-pressed={i === selected}
                onClick={() => (props.activate(), setUi({ ...ui, selected: i, handle: null, notice: "" }))}>
                <span class={`chip ${colourOf(q, o.label)}`}>{label ? labelName(label) : o.label}</span>{" "}
                {`${i + 1}: ${family.describe(o, q)}`}
              </button>
              {problem && <span class="error"> {problem}</span>}
              <span class="obj-tools">
                <button type="button" class="link" aria-pressed={!!(f & HIDDEN)} onClick={() => toggle(o, HIDDEN)}
                  aria-label={`${f & HIDDEN ? "show" : "hide"} object ${i + 1}`}>{f & HIDDEN ? "show" : "hide"}</button>
                <button type="button" class="link" aria-pressed={!!(f & LOCKED)} onClick={() => toggle(o, LOCKED)}
                  aria-label={`${f & LOCKED ? "unlock" : "lock"} object ${i + 1}`}>{f & LOCKED ? "unlock" : "lock"}</button>
                <button type="button" class="link" onClick={() => remove(i)} disabled={!!(f & LOCKED)}
                  aria-label={`remove object ${i + 1}`}>remove</button>
              </span>
              {i === selected && !!q.attributes?.length && (
                <div class="shape-attrs">
                  {q.attributes.map((a) => <ObjectAttribute a={a} now={o.attributes?.[a.name]} onChange={(v) => setAttribute(i, a.name, v)} />)}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {!shapes.length && <p class="muted">No objects: submitting says there is nothing here.</p>}
      {model && open.length > 0 && (
        <ol class="suggested-list" aria-label={`${title(q)}: suggested objects`}>
          {open.map((k) => {
            const o = sug[k]!;
            const label = q.labels.find((l) => l.value === o.label);
            return (
              <li class={k === pick ? "sel" : undefined} data-sug={k}>
                <span class="badge model">suggested</span>{" "}
                <span class={`chip ${colourOf(q, o.label)}`}>{label ? labelName(label) : o.label}</span>{" "}
                {safeDescribe(family, o, q)}
                <span class="obj-tools">
                  <button type="button" class="link" onClick={() => accept(k)}
                    aria-label={`accept suggested object ${k + 1}`}>accept</button>
                  <button type="button" class="link" onClick={() => (props.activate(), setUi(dismissSuggestion(ui, sug, open, k)))}
                    aria-label={`dismiss suggested object ${k + 1}`}>dismiss</button>
                </span>
              </li>
            );
          })}
        </ol>
      )}
      {family.propose && props.itemId !== undefined && (
        <div class="propose-tools" role="group" aria-label={`${title(q)}: propose a mask`}>
          <button type="button" aria-pressed={!!ui.propose} onClick={() => proposeTool("p")}>
            {ui.propose ? "Stop proposing" : "Propose a mask"} <kbd>P</kbd>
          </button>
          {ui.propose && (
            <>
              {(["box", "inside", "outside"] as const).map((tool) => (
                <button type="button" aria-pressed={ui.propose!.tool === tool}
                  onClick={() => proposeTool(tool === "box" ? "b" : tool === "inside" ? "i" : "o")}>
                  {tool === "box" ? "Box" : tool === "inside" ? "Scribble inside" : "Scribble outside"}{" "}
                  <kbd>{tool === "box" ? "B" : tool === "inside" ? "I" : "O"}</kbd>
                </button>
              ))}
              <button type="button" disabled={!ui.propose.target} onClick={() => proposeTool("y")}>Keep <kbd>Y</kbd></button>
              <button type="button" onClick={() => proposeTool("x")}>Discard <kbd>X</kbd></button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** A suggested object in words; one the family cannot read is named by its class only. */
function safeDescribe(family: Family, o: Shape, q: ShapeQuestion): string {
  try {
    return family.describe(o, q);
  } catch {
    return "(cannot be read)";
  }
}
