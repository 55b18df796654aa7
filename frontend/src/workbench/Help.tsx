/** The keyboard shortcuts, as a dialog (opened with ?). */

import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS: [string, string][] = [
  ["1 – 9", "pick option n of the active question (on a 0–9 or 1–9 scale: that value); toggle it in multiple choice"],
  ["an option's own key", "pick that option, whichever question is active (keys are shown on the buttons)"],
  ["↓ / ↑", "next / previous question"],
  ["Enter", "submit the answer and show the next item"],
  ["Ctrl+Enter", "submit, also from inside a text field"],
  ["Shift+Enter", "skip this item (it goes to someone else)"],
  ["Backspace or Ctrl+Z", "undo the last change"],
  ["] / [", "spans: next / previous label"],
  ["← / →, Shift+← / →", "spans: move through the words / select words"],
  ["a label's key", "spans: tag the selected words with that label (or pick the label for mouse selections)"],
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
        <p>Select text with the mouse to tag a span with the current label. Mouse clicks work everywhere.</p>
        <button type="button" ref={close} onClick={onClose}>Close (Esc)</button>
      </div>
    </div>
  );
}
