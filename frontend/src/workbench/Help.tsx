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
  ["] / [", "spans: next / previous label"],
  ["← / →, Shift+← / →", "spans: move through the words / select words"],
  ["a label's key", "spans: tag the selected words, or the word at the cursor, with that label (with neither, pick the label for mouse selections)"],
  ["Delete", "spans: remove the spans at the cursor"],
  ["Escape", "leave a text field; close this help"],
  ["?", "show or hide this help"],
];

export function Help({ onClose }: { onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title">
      <div class="dialog">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table class="shortcuts">
          <tbody>
            {SHORTCUTS.map(([k, what]) => (
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
        <button type="button" ref={close} onClick={onClose}>Close (Esc)</button>
      </div>
    </div>
  );
}
