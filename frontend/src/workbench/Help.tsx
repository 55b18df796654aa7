/** The keyboard shortcuts, as a dialog (opened with ?). */

import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS: [string, string][] = [
  ["1 – 9", "pick option n of the active question (on a 0–9 or 1–9 scale: that value); toggle it in multiple choice"],
  ["an option's own key", "pick that option, whichever question is active (keys are shown on the buttons)"],
  ["↓ / ↑", "next / previous question (right after a pick moved on by itself, ↓ stays on the question it moved to)"],
  ["Enter", "submit the answer and show the next item"],
  ["Ctrl+Enter", "submit, also from inside a text field"],
  ["Shift+Enter", "skip this item (it goes to someone else)"],
  ["Backspace or Ctrl+Z", "undo the last change"],
  ["A", "use the model's suggestion, when one is shown (unless the schema gives A to an option)"],
  ["] / [", "spans: next / previous label; masks: a larger / smaller brush"],
  ["← / →, Shift+← / →", "spans: move through the words / select words"],
  ["a label's key", "spans: tag the selected words, or the word at the cursor, with that label (with neither, pick the label for mouse selections)"],
  ["Delete", "spans: remove the spans at the cursor; shapes: remove the selected point or object"],
  ["drag, click", "shapes: drag on the image for a box; click the points of a polygon or line (Enter or a double click finishes it, Backspace takes the last point back, Escape gives up); paint a mask"],
  ["a class's key, 1 – 9", "shapes: the class for new objects, and for the selected one"],
  ["Tab, Shift+Tab", "shapes: select the next / previous object (while the image has the focus: click it)"],
  ["← → ↑ ↓ (Shift: 10)", "shapes: move the selected object or point by 1 image pixel (Escape lets go of it; then ↓ ↑ move between questions)"],
  ["h / l", "shapes: hide / lock the selected object"],
  ["+ − 0", "shapes: zoom in / out / fit the image (or the wheel); space + drag or the middle button pans"],
  ["Ctrl+Shift+Z, Ctrl+Y", "shapes: redo what undo took back"],
  ["v / s", "keypoints: the last point hidden or visible / skip the next point"],
  ["e", "masks: the eraser on or off"],
  ["n / y / x", "shapes: the model's suggested objects (dashed): pick the next one / accept it / dismiss it (a click on one accepts it)"],
  ["p", "masks: propose a mask: drag a box around the object, i / o scribble inside / outside it (b: the box again); y keeps the proposal, x discards it, Escape stops"],
  ["Space, Ctrl+Space", "audio: play / pause (Ctrl+Space also while typing a transcript)"],
  ["← / →", "audio: back / forward 2 seconds"],
  ["s / d", "audio: slower / faster playback (0.5x to 2x)"],
  ["r", "audio: loop the selected segment (or the one under the playhead) on / off"],
  ["[ / ]", "audio: mark a start / an end at the playhead (] after [ makes a segment); with a segment selected, move its start / end to the playhead"],
  [", / . and < / >", "audio: the selected segment's start / end 50 ms earlier / later"],
  ["a label's key, 1 – 9", "audio: the label for new segments, and for the selected one"],
  ["Tab, Delete, Escape", "audio: select the next segment (while the waveform has the focus: click it) / remove it / let go of it"],
  ["t", "audio: type the selected segment's transcript (Escape leaves the box)"],
  ["+ − 0", "audio: zoom in / out / the whole file (or the wheel; Shift+wheel scrolls)"],
  ["n / y / x", "audio: the model's suggested segments (dashed under the waveform): pick the next / accept it / dismiss it (a click on one accepts it)"],
  ["1 / 2 / 3", "preference: the left response (A) is better / the right one (B) / a tie"],
  ["Shift+1 – 3", "preference: how much better (slightly, better, much better)"],
  ["1 – 9, then ↑ / ↓", "ranking: take the response in that row, then move it up / down; a digit puts it in that place, Delete takes it out of a partial ranking, Escape lets go"],
  ["1 – 9, [ / ]", "criteria: rate the highlighted row (the next unrated row is highlighted next); [ ] the previous / next row"],
  ["< / >", "rewrite, flagged words: the previous / next response"],
  ["0", "flagged words: nothing to flag in this response"],
  ["Escape", "leave a text field; close this help"],
  ["?", "show or hide this help"],
];

/** The video workbench's keys (video/keys.ts), listed when the project has a video question. */
export const VIDEO_SHORTCUTS: [string, string][] = [
  [", / . (Shift: 10)", "video: one frame back / forward (ten with Shift)"],
  ["Home / End", "video: the first / last frame"],
  ["Space", "video: play / pause"],
  ["s / d", "video: slower / faster (0.25x to 2x)"],
  ["a class's key, 1 – 9", "video: the class for new tracks and shapes, and for the selected one"],
  ["drag", "video: start a track with a keyframe on this frame (per-frame mode: a shape on this frame only); move or resize a box: a keyframe here"],
  ["f", "video: per-frame shapes on / off (a drawn box is on this frame only)"],
  ["Tab, Shift+Tab", "video: select the next / previous track"],
  ["← → ↑ ↓ (Shift: 10)", "video: move the selected box by 1 pixel (a track: a keyframe here)"],
  ["o", "video: the track is outside from this frame (again: back in view)"],
  ["i", "video: the track is occluded from this frame (again: not)"],
  ["Delete, Shift+Delete", "video: delete the keyframe here (or the selected shape) / the whole track"],
  ["/", "video: split the track at this frame"],
  ["t", "video: the tracker proposes the track's box on the next frames"],
  ["y / Y", "video: accept all the tracker's proposals / those up to this frame"],
  ["Escape", "video: stop the tracker or drop its proposals; then let go of the selection"],
  ["+ − 0", "video: zoom in / out / fit (or the wheel); the middle button or Ctrl+drag pans"],
  ["Ctrl+Shift+Z, Ctrl+Y", "video: redo what undo took back"],
  ["[ / ]", "video events: mark a start / an end at this frame (the other key makes the event)"],
];

export function Help({ onClose, video = false }: { onClose: () => void; video?: boolean }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title">
      <div class="dialog">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table class="shortcuts">
          <tbody>
            {(video ? [...SHORTCUTS, ...VIDEO_SHORTCUTS] : SHORTCUTS).map(([k, what]) => (
              <tr>
                <th scope="row"><kbd>{k}</kbd></th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p id="auto-advance">
          <strong>Moving on by itself:</strong> a pick that answers a question (single choice, rating) makes the next
          question active, so a run of digits answers question after question. ↓ then goes to that question, not past
          it; multiple choice and text never move on by themselves.
        </p>
        <p>Select text with the mouse to tag a span with the current label; click a word to put the cursor on it. Mouse clicks work everywhere.</p>
        <p>On an image, click an object to select it, drag it to move it, drag its handles to reshape it (the middle of an
          edge adds a vertex; click a vertex, then Delete removes it). Coordinates are the original image's pixels.</p>
        <p>On a waveform, drag to mark a segment, drag its edges to resize it, click it to select it, click elsewhere to move
          the playhead. Times are seconds of the original file, to the millisecond.</p>
        <button type="button" ref={close} onClick={onClose}>Close (Esc)</button>
      </div>
    </div>
  );
}
