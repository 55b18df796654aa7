/**
 * The player's controls under the video: the frame on screen (exactly: the number the frame
 * clock confirmed, player.ts), stepping, play/pause and the speed.
 */

import { RATES, type ClockState, type FrameClock } from "./player";

export function Controls({ clock, s, variant }: { clock: FrameClock; s: ClockState; variant: string }) {
  const shown = s.frame >= 0 ? s.frame : 0;
  return (
    <div class="video-controls" role="group" aria-label="player">
      <button type="button" onClick={() => clock.step(-10)} aria-label="back 10 frames" aria-keyshortcuts="Shift+,">«</button>
      <button type="button" onClick={() => clock.step(-1)} aria-label="previous frame" aria-keyshortcuts=",">‹</button>
      <button type="button" class="video-play" onClick={() => clock.toggle()} aria-keyshortcuts="Space">
        {s.playing ? "Pause" : "Play"}
      </button>
      <button type="button" onClick={() => clock.step(1)} aria-label="next frame" aria-keyshortcuts=".">›</button>
      <button type="button" onClick={() => clock.step(10)} aria-label="forward 10 frames" aria-keyshortcuts="Shift+.">»</button>
      <span class="video-frame-no" role="status" aria-live="off" data-frame={s.frame} data-target={s.target}
        data-confirmed={String(s.confirmed)} data-count={s.frameCount} data-variant={variant}
        data-seek-ms={s.lastSeekMs === null ? "" : s.lastSeekMs.toFixed(2)} data-via={s.via} data-route={s.route} data-missed={s.missed.join(" ")}
        data-media-time={s.mediaTime ?? ""}>
        Frame <strong>{shown}</strong> / {Math.max(0, s.frameCount - 1)}
        {!s.confirmed && !s.playing && s.frame !== s.target && <span class="muted"> (going to {s.target}…)</span>}
      </span>
      <label class="video-goto">
        Go to{" "}
        <input type="number" min={0} max={Math.max(0, s.frameCount - 1)} step={1} inputMode="numeric" aria-label="go to frame"
          onKeyDown={(e) => {
            // Enter here goes to the frame; it must not submit the form around the item.
            if (e.key !== "Enter") return;
            e.preventDefault();
            e.stopPropagation();
            const n = Number((e.currentTarget as HTMLInputElement).value);
            if (Number.isInteger(n)) clock.seek(n);
          }} />
      </label>
      <label class="video-rate">
        Speed{" "}
        <select value={String(s.rate)} onChange={(e) => clock.setRate(Number((e.currentTarget as HTMLSelectElement).value))}>
          {RATES.map((r) => <option value={String(r)}>{`${r}×`}</option>)}
        </select>
      </label>
      {variant === "proxy" && <span class="muted" title="The server made a smaller copy of this video for the browser">proxy</span>}
    </div>
  );
}
