/**
 * Answers on their way to the server. An answer is written here (localStorage) before it is
 * sent, with its idempotency key, so that a network error, a closed tab or a reload never
 * loses it, and a retry never stores it twice: the server answers a repeated key with the
 * answer it already has.
 *
 * The same storage keeps drafts: what the annotator has entered for an item but not yet
 * submitted, so that a reload or a closed tab does not lose a half-typed answer. A draft is
 * dropped when its answer goes into the outbox or the item is skipped.
 */

import { ApiError, api } from "../api";
import type { Answer } from "../types";

export interface OutboxEntry {
  key: string;
  projectId: number;
  itemId: number;
  value: Answer;
  durationMs: number | null;
  /** The suggestion shown with the item (a model version, "import"), or null: the server compares. */
  suggestion?: number | "import" | null;
  createdAt: number;
  attempts: number;
  /** Set when the server refused the answer for good (it will not be retried). */
  error?: string;
}

/** An answer being written: the values so far, and which of them are still a model's suggestion. */
export interface Draft {
  value: Answer;
  suggested: string[];
  savedAt: number;
}

// Drafts of items that never came back (the lease ran out, someone else answered) would pile
// up otherwise; the oldest go first.
const MAX_DRAFTS = 50;

/** Statuses that say "try again later" rather than "this answer is wrong". */
function retryable(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true; // no answer at all: network, server down
  return e.status >= 500 || e.status === 401 || e.status === 408 || e.status === 429;
}

const MAX_DELAY_MS = 4000;

export class Outbox {
  private listeners = new Set<() => void>();
  private flushing: Promise<void> | null = null;
  private timer: number | null = null;

  constructor(private readonly storageKey: string) {
    addEventListener("online", () => void this.flush());
    // Another tab of the same user may add or send answers.
    addEventListener("storage", (e) => {
      if (e.key === this.storageKey) this.notify();
    });
  }

  entries(): OutboxEntry[] {
    try {
      const raw = localStorage.getItem(this.storageKey);
      return raw ? (JSON.parse(raw) as OutboxEntry[]) : [];
    } catch {
      return [];
    }
  }

  pending(projectId?: number): OutboxEntry[] {
    return this.entries().filter((e) => !e.error && (projectId === undefined || e.projectId === projectId));
  }

  failed(projectId?: number): OutboxEntry[] {
    return this.entries().filter((e) => e.error && (projectId === undefined || e.projectId === projectId));
  }

  /** Items whose answer is still on its way (the server still counts them as leased to us). */
  heldItemIds(projectId: number): number[] {
    return this.pending(projectId).map((e) => e.itemId);
  }

  add(entry: Omit<OutboxEntry, "attempts" | "createdAt">): void {
    this.write([...this.entries(), { ...entry, attempts: 0, createdAt: Date.now() }]);
    void this.flush();
  }

  discard(key: string): void {
    this.write(this.entries().filter((e) => e.key !== key));
  }

  draft(projectId: number, itemId: number): Draft | null {
    return this.drafts()[`${projectId}/${itemId}`] ?? null;
  }

  saveDraft(projectId: number, itemId: number, value: Answer, suggested: string[]): void {
    const all = { ...this.drafts(), [`${projectId}/${itemId}`]: { value, suggested, savedAt: Date.now() } };
    const keep = Object.entries(all).sort(([, a], [, b]) => b.savedAt - a.savedAt).slice(0, MAX_DRAFTS);
    this.writeDrafts(Object.fromEntries(keep));
  }

  dropDraft(projectId: number, itemId: number): void {
    const all = this.drafts();
    const key = `${projectId}/${itemId}`;
    if (!(key in all)) return;
    delete all[key];
    this.writeDrafts(all);
  }

  private get draftsKey(): string {
    return `${this.storageKey}.drafts`;
  }

  private drafts(): Record<string, Draft> {
    try {
      const raw = localStorage.getItem(this.draftsKey);
      return raw ? (JSON.parse(raw) as Record<string, Draft>) : {};
    } catch {
      return {};
    }
  }

  private writeDrafts(drafts: Record<string, Draft>): void {
    try {
      localStorage.setItem(this.draftsKey, JSON.stringify(drafts));
    } catch {
      // A full or unavailable storage costs the draft, never the page (answers use the outbox).
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Send every pending answer, oldest first; on a transient failure, retry with backoff. */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.sendAll().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // Entries added while this runs are sent by this same run, not left for a later one.
    const tried = new Set<string>();
    for (;;) {
      const entry = this.pending().find((e) => !tried.has(e.key));
      if (!entry) return;
      tried.add(entry.key);
      try {
        await api(
          "POST",
          `/api/projects/${entry.projectId}/items/${entry.itemId}/answers`,
          { value: entry.value, duration_ms: entry.durationMs, suggestion_version: entry.suggestion ?? null },
          { "Idempotency-Key": entry.key },
        );
        this.write(this.entries().filter((e) => e.key !== entry.key));
      } catch (e) {
        if (retryable(e)) {
          this.update(entry.key, { attempts: entry.attempts + 1 });
          const delay = Math.min(MAX_DELAY_MS, 250 * 2 ** entry.attempts);
          this.timer = window.setTimeout(() => void this.flush(), delay);
          return;
        }
        this.update(entry.key, { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private update(key: string, patch: Partial<OutboxEntry>): void {
    this.write(this.entries().map((e) => (e.key === key ? { ...e, ...patch } : e)));
  }

  private write(entries: OutboxEntry[]): void {
    localStorage.setItem(this.storageKey, JSON.stringify(entries));
    this.notify();
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }
}

const outboxes = new Map<number, Outbox>();

/** One outbox per signed-in user, so two people sharing a browser never send each other's work. */
export function outboxFor(userId: number): Outbox {
  let box = outboxes.get(userId);
  if (!box) {
    box = new Outbox(`labelloop.outbox.${userId}`);
    outboxes.set(userId, box);
  }
  return box;
}
