/**
 * The buttons under the waveform, each doing what its key does (audio/keys.ts): play / pause,
 * back 2 s, the playback speed, loop the selected segment, zoom; and the playhead's time, which
 * the waveform writes directly while playing (`clockRef`) rather than rendering every frame.
 */

import type { RefObject } from "preact";
import { BACK_S, RATES, skip, toggleLoop, type WaveActions } from "./keys";
import { clock } from "./segments";

export interface ControlsProps {
  playing: boolean;
  rate: number;
  loop: boolean;
  duration: number | null;
  clockRef: RefObject<HTMLSpanElement | null>;
  /** Run an action on the waveform's current state (the question becomes the active one). */
  act: (f: (a: WaveActions) => void) => void;
}

export function Controls({ playing, rate, loop, duration, clockRef, act }: ControlsProps) {
  return (
    <div class="wave-controls" role="group" aria-label="playback">
      <button type="button" class="wave-play" onClick={() => act((a) => a.player.toggle())} aria-keyshortcuts="Space">
        {playing ? "Pause" : "Play"} <kbd>Space</kbd>
      </button>
      <button type="button" onClick={() => act((a) => skip(a, -BACK_S))} aria-keyshortcuts="ArrowLeft">
        Back 2 s <kbd>←</kbd>
      </button>
      <label class="wave-rate">
        Speed
        <select value={String(rate)}
          onChange={(e) => act((a) => a.player.setRate(Number((e.currentTarget as HTMLSelectElement).value)))}>
          {RATES.map((r) => <option value={String(r)}>{`${r}x`}</option>)}
        </select>
        <kbd>S</kbd> <kbd>D</kbd>
      </label>
      <button type="button" aria-pressed={loop} onClick={() => act(toggleLoop)} aria-keyshortcuts="R">
        Loop segment <kbd>R</kbd>
      </button>
      <span class="wave-zoom">
        <button type="button" onClick={() => act((a) => a.zoom(2))} aria-label="zoom in" aria-keyshortcuts="+">+</button>
        <button type="button" onClick={() => act((a) => a.zoom(0.5))} aria-label="zoom out" aria-keyshortcuts="-">−</button>
        <button type="button" onClick={() => act((a) => a.zoom("fit"))} aria-label="the whole file" aria-keyshortcuts="0">fit</button>
      </span>
      <span class="wave-clock"><span ref={clockRef}>0:00.0</span>{duration ? ` / ${clock(duration)}` : ""}</span>
    </div>
  );
}
