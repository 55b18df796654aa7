/**
 * The annotator's own count: answered, and about how many are left. Asked for when an answer
 * has reached the server (or an item was skipped), never with each task, so the next-task and
 * submit calls stay as short as they are; requests made while one runs collapse into one more.
 */

import { api } from "../api";
import type { TaskProgress } from "../types";

export class ProgressCount {
  value: TaskProgress | null = null;
  private running = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly projectId: number,
    private readonly onChange: () => void,
  ) {}

  refresh(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    api<TaskProgress>("GET", `/api/projects/${this.projectId}/tasks/progress`)
      .then((p) => {
        this.value = p;
        if (!this.closed) this.onChange();
      })
      .catch(() => undefined) // a courtesy: on failure the last count stays until the next answer
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  close(): void {
    this.closed = true;
  }
}

/** "12 done · about 340 left", counting answers still on their way as done. */
export function progressText(p: TaskProgress, pending: number): string {
  const done = p.done + pending;
  // The server counts an item whose answer has not reached it yet as held, so as left.
  const left = Math.max(0, p.left - pending);
  const rest = p.left_capped ? `more than ${p.left}` : left ? `about ${left}` : "none";
  return `${done} done · ${rest} left`;
}
