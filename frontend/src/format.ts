/** Answers and values as short text for lists and tables. */

import type { Answer } from "./types";

export function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join(", ");
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "label" in x)) {
    return v.map((s: { start: number; end: number; label: string }) => `${s.label}[${s.start}:${s.end}]`).join(" ");
  }
  return JSON.stringify(v);
}

export function answerText(a: Answer): string {
  return Object.entries(a).map(([k, v]) => `${k}: ${valueText(v)}`).join("; ");
}

export function when(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}
