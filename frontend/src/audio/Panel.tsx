/**
 * An `audio_segments` question's own part of the form, under the item: the label for new
 * segments (and for the selected one; keys as for span labels), the segments in time order, and
 * for the selected one its label, attributes and transcript box; the model's suggested segments
 * still to decide, with accept / dismiss. Labels and transcripts are rendered as text only.
 */

import { useLayoutEffect, useRef } from "preact/hooks";
import { labelKey } from "../canvas/shape";
import type { ViewProps } from "../questions/kind";
import { title } from "../questions/kind";
import { ObjectAttribute } from "../questions/ObjectAttribute";
import type { AudioSegmentsQuestion } from "../types";
import {
  acceptSuggestion, colourOf, dismissSuggestion, edited, labelName, nameOf, openSuggestions, pickedSuggestion,
  place, removed, segmentsOf, selectedIndex, span, type AudioUi, type Placed, type Segment,
} from "./segments";

/** Word timings listed for the selected segment (a long model transcript is cut there). */
const WORDS_SHOWN = 60;

export function Panel(props: ViewProps<AudioSegmentsQuestion>) {
  const { q, value, set } = props;
  const segs = segmentsOf(value);
  const ui: AudioUi = props.ui.audio ?? {};
  const setUi = (u: AudioUi) => props.setUi({ ...props.ui, audio: u });
  const current = Math.min(ui.label ?? 0, q.labels.length - 1);
  const selected = selectedIndex(ui, segs);
  const commit = (r: Placed | string) => {
    if (typeof r === "string") return setUi({ ...ui, notice: r });
    set(r.value);
    setUi(r.ui);
  };
  /** The selected segment changed in place (label, attributes, text): its position in time stays. */
  const replace = (i: number, next: Segment) => commit(place(q, segs, ui, next, i));

  const pickLabel = (i: number) => {
    props.activate();
    if (selected === null) return setUi({ ...ui, label: i, notice: "" });
    replace(selected, { ...segs[selected]!, label: q.labels[i]!.value });
  };
  const setAttribute = (i: number, name: string, v: string | undefined) => {
    const s = segs[i]!;
    const attributes = { ...s.attributes };
    if (v === undefined) delete attributes[name];
    else attributes[name] = v;
    const next: Segment = { ...s, attributes };
    if (!Object.keys(attributes).length) delete next.attributes;
    replace(i, next);
  };

  const text = useRef<HTMLTextAreaElement>(null);
  // Before the next paint: the keys typed right after t go into the box.
  useLayoutEffect(() => {
    if (ui.typeText) text.current?.focus();
  }, [ui.typeText]);

  const sug = segmentsOf(props.others?.find((o) => o.kind === "model")?.value);
  const open = openSuggestions(sug, segs, ui);
  const pick = pickedSuggestion(open, ui);
  const sel = selected !== null ? segs[selected]! : null;

  return (
    <div class={`audio-segments${props.suggested ? " suggested" : ""}`}>
      <div class="span-labels" role="radiogroup" aria-label={`${title(q)}: label`}>
        {q.labels.map((l, i) => {
          const on = sel ? sel.label === l.value : i === current;
          return (
            <button type="button" role="radio" aria-checked={on} class={`option span-label lab-${i % 8}${on ? " on" : ""}`}
              onClick={() => pickLabel(i)}>
              {labelKey(q.labels, i) && <kbd aria-hidden="true">{labelKey(q.labels, i)}</kbd>}
              <span>{labelName(l)}</span>
            </button>
          );
        })}
      </div>
      <p class="muted shape-hint">
        Drag on the waveform to mark a segment (or [ and ] at the playhead); drag its edges to resize it; Space plays.
      </p>
      <ol class="seg-list" aria-label={`${title(q)}: segments`}>
        {segs.map((s, i) => (
          <li class={i === selected ? "sel" : undefined} data-seg={i}>
            <button type="button" class="link seg-pick" aria-pressed={i === selected}
              onClick={() => (props.activate(), setUi({ ...ui, selected: i, loop: false, notice: "" }))}>
              <span class={`chip ${colourOf(q, s.label)}`}>{nameOf(q, s.label)}</span>{" "}
              {`${i + 1}: ${span(s)}`}
              {q.transcript && s.text ? <span class="seg-quote">{` “${s.text}”`}</span> : null}
              {s.words?.length ? <span class="muted">{` (${s.words.length} timed words)`}</span> : null}
            </button>
            <span class="obj-tools">
              <button type="button" class="link" onClick={() => commit(removed(segs, ui, i))}
                aria-label={`remove segment ${i + 1}`}>remove</button>
            </span>
            {i === selected && (q.transcript || !!q.attributes?.length || !!s.words?.length) && (
              <div class="seg-edit">
                {q.transcript && (
                  <label>
                    {`Transcript of segment ${i + 1}`}
                    <textarea ref={text} class="seg-text" value={s.text ?? ""} spellcheck={true}
                      onInput={(e) => replace(i, edited(s, { text: (e.currentTarget as HTMLTextAreaElement).value }))} />
                  </label>
                )}
                {!!s.words?.length && (
                  <p class="seg-words muted" aria-label={`word timings of segment ${i + 1}`}>
                    {s.words.slice(0, WORDS_SHOWN).map((w) => `${w.word} (${w.start.toFixed(2)}–${w.end.toFixed(2)})`).join(" ")}
                    {s.words.length > WORDS_SHOWN ? ` … ${s.words.length - WORDS_SHOWN} more` : ""}
                    {" — kept while the text and bounds stay the model's."}
                  </p>
                )}
                {q.attributes?.map((a) => <ObjectAttribute a={a} now={s.attributes?.[a.name]} onChange={(v) => setAttribute(i, a.name, v)} />)}
              </div>
            )}
          </li>
        ))}
      </ol>
      {!segs.length && <p class="muted">No segments: submitting says there is nothing here.</p>}
      {open.length > 0 && (
        <ol class="suggested-list" aria-label={`${title(q)}: suggested segments`}>
          {open.map((k) => {
            const s = sug[k]!;
            return (
              <li class={k === pick ? "sel" : undefined} data-sug={k}>
                <span class="badge model">suggested</span>{" "}
                <span class={`chip ${colourOf(q, s.label)}`}>{nameOf(q, String(s.label))}</span>{" "}
                {typeof s.start === "number" && typeof s.end === "number" ? span(s) : ""}
                {typeof s.text === "string" && s.text ? <span class="seg-quote">{` “${s.text}”`}</span> : null}
                <span class="obj-tools">
                  <button type="button" class="link" onClick={() => (props.activate(), commit(acceptSuggestion(q, segs, ui, sug, k)))}
                    aria-label={`accept suggested segment ${k + 1}`}>accept</button>
                  <button type="button" class="link" onClick={() => (props.activate(), setUi(dismissSuggestion(ui, sug, k)))}
                    aria-label={`dismiss suggested segment ${k + 1}`}>dismiss</button>
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
