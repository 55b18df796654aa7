/**
 * The one way the app talks to the server: the same public API as the SDK, authenticated by
 * the session cookie, with the CSRF token repeated in a header on unsafe methods.
 */

import type { Problem } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** The request never got an answer (server down, network gone, request aborted). */
export class NetworkError extends Error {}

const CSRF_COOKIE = "labelloop_csrf";
const SAFE = new Set(["GET", "HEAD"]);

export function csrfToken(): string {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function requestHeaders(method: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
  return headers;
}

/** Called when the session has ended, so the app can show the login page. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

/** Counts sign-ins and sign-outs: a 401 answering a request sent before the last one belongs to
 * the session that has ended, and must not sign out the person who has signed in since. */
let sessionEpoch = 0;
export function sessionChanged(): void {
  sessionEpoch += 1;
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  const epoch = sessionEpoch;
  const headers = requestHeaders(method, extraHeaders);
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (response.status === 204) return null as T;
  let data: unknown = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data as { error?: { message?: string; problems?: Problem[] } } | null)?.error;
    if (response.status === 401 && path !== "/api/auth/session" && epoch === sessionEpoch) onUnauthenticated();
    throw new ApiError(response.status, err?.message ?? `HTTP ${response.status}`, err?.problems ?? []);
  }
  return data as T;
}

/** One problem as a line of text: where (file, line and column, record, field), then what. */
export function problemText(p: Problem): string {
  const where = [p.file, p.line && `line ${p.line}`, p.column && `column ${p.column}`, p.record && `record ${p.record}`]
    .filter(Boolean).join(", ");
  return [where, p.field, p.message].filter(Boolean).join(": ");
}

const SHOWN_PROBLEMS = 5;

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const details = e.problems.slice(0, SHOWN_PROBLEMS).map(problemText);
    const more = e.problems.length - details.length;
    return [e.message, ...details, ...(more > 0 ? [`and ${more} more`] : [])].join(" — ");
  }
  if (e instanceof NetworkError) return "The server cannot be reached.";
  return e instanceof Error ? e.message : String(e);
}

/** Whether a failure means "try again later" (no answer, or the server is in trouble). */
export function transient(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof ApiError && (e.status >= 500 || e.status === 429));
}

/** Call until it succeeds or fails for good; transient failures are retried every `delayMs`. */
export async function retrying<T>(fn: () => Promise<T>, delayMs = 2000): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!transient(e)) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
