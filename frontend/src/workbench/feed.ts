/**
 * The annotator's stream of tasks: the one on screen and the next one, fetched ahead so that
 * after a submit the next item appears at once. Items whose answers still wait in the outbox
 * are excluded from `tasks/next` (the server still counts them as leased to this annotator).
 */

import { ApiError, NetworkError, api, errorText } from "../api";
import type { Prelabel, Task } from "../types";
import type { Outbox } from "./outbox";

export type Phase = "loading" | "ready" | "empty" | "waiting" | "offline" | "error";

const RETRY_MS = 2000;

export class TaskFeed {
  current: Task | null = null;
  phase: Phase = "loading";
  error = "";
  private next: Task | null = null;
  private nextRequest: Promise<void> | null = null;
  private retryTimer: number | null = null;
  private closed = false;

  constructor(
    private readonly projectId: number,
    private readonly outbox: Outbox,
    private readonly onChange: () => void,
  ) {}

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }

  /** Items on screen, fetched ahead, or answered but not yet stored. */
  private exclude(): number[] {
    const ids = this.outbox.heldItemIds(this.projectId);
    if (this.current) ids.push(this.current.item_id);
    if (this.next) ids.push(this.next.item_id);
    return ids;
  }

  /** A task, null when none is left, or "held" when we hold as many as the server allows. */
  private async fetchOne(): Promise<Task | null | "held"> {
    try {
      return await api<Task | null>("POST", `/api/projects/${this.projectId}/tasks/next`, {
        exclude: this.exclude(),
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return "held";
      throw e;
    }
  }

  /** Show a task if none is shown: the prefetched one at once, or a fresh one. */
  async fill(): Promise<void> {
    if (this.closed || this.current) return;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (!this.next && this.nextRequest) await this.nextRequest;
    if (this.next) {
      this.current = this.next;
      this.next = null;
    } else {
      try {
        const t = await this.fetchOne();
        if (t === "held") this.phase = "waiting";
        else if (t === null) this.phase = "empty";
        else this.current = t;
      } catch (e) {
        this.phase = e instanceof NetworkError || (e instanceof ApiError && e.status >= 500) ? "offline" : "error";
        this.error = errorText(e);
      }
      if (!this.current && (this.phase === "waiting" || this.phase === "offline")) {
        this.retryTimer = window.setTimeout(() => void this.fill(), RETRY_MS);
      }
    }
    if (this.current) this.phase = "ready";
    this.onChange();
    this.prefetch();
  }

  /** Fetch the following task in the background (once; again after the outbox drains). */
  prefetch(): void {
    if (this.closed || !this.current || this.next || this.nextRequest) return;
    this.nextRequest = this.fetchOne()
      .then((t) => {
        if (t && t !== "held") this.next = t;
      })
      .catch(() => undefined)
      .finally(() => {
        this.nextRequest = null;
      });
  }

  /** The shown task is done (answered or skipped): move on. */
  advance(): Promise<void> {
    this.current = null;
    return this.fill();
  }

  /**
   * A newer suggestion for a task held here (shown or fetched ahead), from a lease renewal;
   * whether it changed anything.
   */
  setPrelabel(itemId: number, prelabel: Prelabel | null): boolean {
    let changed = false;
    for (const t of [this.current, this.next]) {
      if (t?.item_id !== itemId || (t.prelabel?.model_version ?? null) === (prelabel?.model_version ?? null)) continue;
      t.prelabel = prelabel;
      changed = true;
    }
    return changed;
  }

  /** Leases to keep alive while the page is open. */
  leasedItems(): number[] {
    return [this.current?.item_id, this.next?.item_id].filter((x): x is number => x !== undefined);
  }
}
