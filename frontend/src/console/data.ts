/** Loading a project's answers for the console (the API pages them by id). */

import { api } from "../api";
import type { StoredAnswer } from "../types";

const PAGE = 1000;
export const MAX_ANSWERS = 20_000;

/** The project's answers in id order, at most MAX_ANSWERS of them (managers see all). */
export async function projectAnswers(projectId: number): Promise<{ answers: StoredAnswer[]; complete: boolean }> {
  let after = 0;
  const out: StoredAnswer[] = [];
  while (out.length < MAX_ANSWERS) {
    const page = await api<StoredAnswer[]>("GET", `/api/projects/${projectId}/answers?after=${after}&limit=${PAGE}`);
    out.push(...page);
    if (page.length < PAGE) return { answers: out, complete: true };
    after = page[page.length - 1]!.id;
  }
  return { answers: out, complete: false };
}

/** Answers per hour, for the hours from the first answer to the last (at most the last 48). */
export function perHour(answers: StoredAnswer[]): { label: string; value: number }[] {
  if (!answers.length) return [];
  const hour = 3600_000;
  const times = answers.map((a) => Date.parse(a.created_at));
  const last = Math.floor(Math.max(...times) / hour);
  const first = Math.max(Math.floor(Math.min(...times) / hour), last - 47);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const t of times) {
    const b = Math.floor(t / hour) - first;
    if (b >= 0) counts[b]!++;
  }
  return counts.map((value, i) => {
    const d = new Date((first + i) * hour);
    return { label: `${String(d.getHours()).padStart(2, "0")}h`, value };
  });
}
