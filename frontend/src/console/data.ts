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

/** The chart shows at least this many hours, so that one busy hour is one bar among others. */
export const MIN_HOURS = 12;

const clock = (d: Date) => `${String(d.getHours()).padStart(2, "0")}:00`;

/**
 * Answers per hour (local time) for the hours up to the one of the newest answer: from the first
 * answer's hour, at least MIN_HOURS and at most HOURS of them. Each bar is labelled by the hour
 * it starts at, and its note says which hour of which day it counts.
 */
export function perHour(answers: StoredAnswer[]): { label: string; value: number; note: string }[] {
  if (!answers.length) return [];
  const times = answers.map((a) => Date.parse(a.created_at));
  const last = Math.floor(Math.max(...times) / HOUR);
  const first = Math.min(Math.max(Math.floor(Math.min(...times) / HOUR), last - (HOURS - 1)), last - (MIN_HOURS - 1));
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const t of times) {
    const b = Math.floor(t / HOUR) - first;
    if (b >= 0) counts[b]!++;
  }
  return counts.map((value, i) => {
    const start = new Date((first + i) * HOUR);
    const day = start.toLocaleDateString(undefined, { day: "numeric", month: "short" });
    const n = `${value} answer${value === 1 ? "" : "s"}`;
    return { label: clock(start), value, note: `${n} from ${clock(start)} to ${clock(new Date((first + i + 1) * HOUR))} on ${day}` };
  });
}
