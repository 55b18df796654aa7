/**
 * The candidate responses of an item (docs/feedback.md, "Items"), as the widgets show them:
 * only each candidate's `id` and `content`, never its `model` or `meta` (the server strips them
 * from annotators' tasks; they are dropped here too, so that a comparison stays blind whatever
 * the payload holds).
 *
 * Position bias: people prefer whatever comes first (or left) a little. So every annotator sees
 * an item's candidates in their own order, shuffled by a stable hash of (item, person): the
 * same on every reload, different between people, and the preference pair takes its sides from
 * that order. Answers name candidates by id, so the order shown never reaches the data.
 */

export interface Candidate {
  id: string;
  content: string;
}

/** A message of a conversation as text: OpenAI's content parts are joined, anything else is JSON. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        const p = (part ?? {}) as { text?: unknown };
        return typeof p.text === "string" ? p.text : JSON.stringify(part);
      })
      .join("\n");
  }
  return JSON.stringify(content);
}

/** The item's candidates in a `responses` field: id and text only; malformed entries are left out. */
export function candidatesOf(data: Record<string, unknown>, field: string): Candidate[] {
  const raw = data[field];
  if (!Array.isArray(raw)) return [];
  const out: Candidate[] = [];
  const seen = new Set<string>();
  raw.forEach((r, i) => {
    // Plain strings are what an import turns into candidates r1, r2, … (docs/feedback.md).
    const c = typeof r === "string" ? { id: `r${i + 1}`, content: r } : (r ?? {}) as { id?: unknown; content?: unknown };
    if (typeof c.id !== "string" || seen.has(c.id)) return;
    seen.add(c.id);
    out.push({ id: c.id, content: contentText(c.content) });
  });
  return out;
}

/** 32-bit FNV-1a of a string: a stable, well-spread hash (not a secret). */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The signed-in person's id, as the app remembers it (App.tsx), or null. */
export function currentUserId(): number | null {
  try {
    const me = JSON.parse(localStorage.getItem("labelloop.me") ?? "null") as { id?: unknown } | null;
    return typeof me?.id === "number" ? me.id : null;
  } catch {
    return null;
  }
}

/**
 * What makes an order stable: the item (by its content, which every page that shows it has,
 * key handlers included) and the person.
 */
export function seedOf(data: Record<string, unknown>, userId: number | null): string {
  let itemHash = hashes.get(data);
  if (itemHash === undefined) {
    itemHash = stableHash(JSON.stringify(data));
    hashes.set(data, itemHash);
  }
  return `${itemHash}|${userId ?? "anyone"}`;
}

/** Items' hashes by their data object: a page re-renders every key press, and items can be large. */
const hashes = new WeakMap<object, number>();

/** The candidates in the order this person sees them on this item. */
export function shownOrder(candidates: Candidate[], seed: string): Candidate[] {
  return candidates
    .map((c) => ({ c, h: stableHash(`${seed}|${c.id}`) }))
    .sort((x, y) => x.h - y.h || (x.c.id < y.c.id ? -1 : 1))
    .map((x) => x.c);
}

/** A, B, …, Z, AA, AB, … */
export function letter(i: number): string {
  let n = i;
  let out = "";
  do {
    out = String.fromCharCode(65 + (n % 26)) + out;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return out;
}

export interface Shown {
  candidate: Candidate;
  /** "A", "B", …: its place in this person's order. */
  letter: string;
}

/** The candidates in this person's order, each with its letter. */
export function lettered(candidates: Candidate[], seed: string): Shown[] {
  return shownOrder(candidates, seed).map((candidate, i) => ({ candidate, letter: letter(i) }));
}

/**
 * The pair to compare, left first: the item's two candidates, or, with more, one of the pairs
 * this person has compared least often on the item. A page shows one item to a person once, so
 * all pairs are tied at nought here and the stable hash picks among them; the server counts
 * what was compared from the values, which record both sides. The left one is whichever comes
 * first in this person's order, so the sides are as random as that order.
 */
export function pickPair(shown: Shown[], seed: string): [Shown, Shown] | null {
  if (shown.length < 2) return null;
  const pairs: [Shown, Shown][] = [];
  for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) pairs.push([shown[i]!, shown[j]!]);
  return pairs[stableHash(`${seed}|pair`) % pairs.length]!;
}

/** An item's candidates as this person sees them, and the seed of their order. */
export function shownFor(data: Record<string, unknown>, field: string): { shown: Shown[]; seed: string } {
  const seed = seedOf(data, currentUserId());
  return { shown: lettered(candidatesOf(data, field), seed), seed };
}

/**
 * The candidates each question showed last. A question's `problem` sees only its value, not the
 * item (a criteria answer that never mentions a response, a rewrite's original text); the form
 * draws a question before anyone can submit it, so what it showed last is the item on screen.
 */
const lastShownBy = new WeakMap<object, Shown[]>();

export function rememberShown(question: object, shown: Shown[]): void {
  lastShownBy.set(question, shown);
}

export function lastShown(question: object): Shown[] | undefined {
  return lastShownBy.get(question);
}
