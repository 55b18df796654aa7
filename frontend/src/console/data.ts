/** Loading a project's recent answers for the console (the API pages them newest first). */

import { api } from "../api";
import type { StoredAnswer } from "../types";

const PAGE = 1000;
const HOUR = 3600_000;
export const HOURS = 48;
const MAX_PAGES = 20;

/**
 * The project's answers of the last HOURS hours before its newest one, newest first: pages
 * of answers older than the smallest id seen, until they are older than that (or MAX_PAGES).
 */
export async function recentAnswers(projectId: number): Promise<StoredAnswer[]> {
  const out: StoredAnswer[] = [];
  let before: number | null = null;
  for (let n = 0; n < MAX_PAGES; n++) {
    const older: string = before === null ? "" : `&before=${before}`;
    const page = await api<StoredAnswer[]>(
      "GET", `/api/projects/${projectId}/answers?newest_first=true&limit=${PAGE}${older}`,
    );
    out.push(...page);
    if (page.length < PAGE) break;
    before = Math.min(...page.map((a) => a.id));
    const newest = Date.parse(out[0]!.created_at);
    if (Date.parse(page[page.length - 1]!.created_at) < newest - HOURS * HOUR) break;
  }
  return out;
}

/** Answers per hour, for the hours from the first answer to the last (at most the last HOURS). */
export function perHour(answers: StoredAnswer[]): { label: string; value: number }[] {
  if (!answers.length) return [];
  const times = answers.map((a) => Date.parse(a.created_at));
  const last = Math.floor(Math.max(...times) / HOUR);
  const first = Math.max(Math.floor(Math.min(...times) / HOUR), last - (HOURS - 1));
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const t of times) {
    const b = Math.floor(t / HOUR) - first;
    if (b >= 0) counts[b]!++;
  }
  return counts.map((value, i) => {
    const d = new Date((first + i) * HOUR);
    return { label: `${String(d.getHours()).padStart(2, "0")}h`, value };
  });
}
