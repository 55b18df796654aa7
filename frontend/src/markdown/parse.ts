/**
 * Markdown from item data (prompts, conversations, model responses) as a syntax tree, never as
 * HTML: `marked`'s lexer (GitHub-flavoured: tables, strikethrough, task lists, bare URLs) gives
 * the tokens, and `render.tsx` turns them into Preact elements, whose text reaches the page as
 * text nodes. Raw HTML in the source is a token like any other and is shown as its text.
 */

import type { Token } from "marked";

type Marked = typeof import("marked");

/**
 * The parser is fetched the first time a page shows Markdown (its own chunk, from this origin),
 * so that projects without language-model items never download it; until it arrives, the
 * source is shown as plain text.
 */
let marked: Marked | null = null;
let loading: Promise<boolean> | null = null;

export function markdownReady(): boolean {
  return marked !== null;
}

/** Load the parser; true once it is there (false if it could not be fetched: text stays plain). */
export function loadMarkdown(): Promise<boolean> {
  loading ??= import("marked").then(
    (m) => {
      marked = m;
      return true;
    },
    () => {
      loading = null; // try again on the next page that shows Markdown
      return false;
    },
  );
  return loading;
}

/** Lexed sources kept, so that a form re-rendered on every key press does not lex its responses again. */
const CACHE_SIZE = 64;
const cache = new Map<string, Token[]>();

/**
 * The source's block tokens (null while the parser is not loaded); a source the lexer cannot
 * read becomes one paragraph of text.
 */
export function lex(source: string): Token[] | null {
  if (!marked) return null;
  const hit = cache.get(source);
  if (hit) return hit;
  let tokens: Token[];
  try {
    tokens = new marked.Lexer({ gfm: true, breaks: false }).lex(source);
  } catch {
    tokens = [{ type: "paragraph", raw: source, text: source, tokens: [{ type: "text", raw: source, text: source }] }];
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(source, tokens);
  return tokens;
}

const ALLOWED = new Set(["http:", "https:", "mailto:"]);

/**
 * The address a link may point to, or null: only absolute `http:`, `https:` and `mailto:` URLs
 * (no `javascript:`, `data:`, `vbscript:`, relative paths or anything else). Character
 * references are decoded first, as CommonMark says, so `&#106;avascript:` is seen for what it
 * is; the URL parser then drops the tabs, newlines and leading controls a browser would, and the
 * link gets the parsed URL's own text, so what was checked is what is followed.
 */
export function safeHref(href: string): string | null {
  let url: URL;
  try {
    url = new URL(decodeEntities(href).trim());
  } catch {
    return null;
  }
  return ALLOWED.has(url.protocol) ? url.href : null;
}

const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0", copy: "©", reg: "®", trade: "™",
  hellip: "…", mdash: "—", ndash: "–", lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", laquo: "«",
  raquo: "»", times: "×", divide: "÷", deg: "°", plusmn: "±", middot: "·", bull: "•", para: "¶",
  sect: "§", euro: "€", pound: "£", yen: "¥", cent: "¢", larr: "←", rarr: "→", uarr: "↑", darr: "↓",
  le: "≤", ge: "≥", ne: "≠", infin: "∞", micro: "µ", shy: "\u00ad",
};

/**
 * Character references in Markdown text (`&amp;`, `&#233;`, `&#x1F600;`) as the characters they
 * stand for, computed here rather than by an HTML parser; an unknown name stays as it is written.
 */
export function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, (whole, ref: string) => {
    if (ref[0] !== "#") return NAMED[ref] ?? whole;
    const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // NUL, surrogates and values past Unicode are replaced, as HTML does.
    const bad = code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff);
    return String.fromCodePoint(bad ? 0xfffd : code);
  });
}
