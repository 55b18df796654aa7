/** What is still on its way to the server, and what the server refused. */

import { useEffect, useReducer } from "preact/hooks";
import type { Outbox } from "./outbox";

export function Pending({ outbox, projectId }: { outbox: Outbox; projectId: number }) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => outbox.subscribe(() => rerender(0)), [outbox]);
  const pending = outbox.pending(projectId);
  const failed = outbox.failed(projectId);
  return (
    <div class="pending-box">
      <p class={pending.length ? "pending waiting" : "pending saved"} role="status" aria-live="polite" data-pending={pending.length}>
        {pending.length
          ? `${pending.length} answer${pending.length === 1 ? "" : "s"} waiting to be sent`
          : "All answers saved"}
      </p>
      {failed.length > 0 && (
        <ul class="failed" aria-label="answers the server refused">
          {failed.map((e) => (
            <li>
              {`Item ${e.itemId}: ${e.error}`}{" "}
              <button type="button" class="link" onClick={() => outbox.discard(e.key)}>dismiss</button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
