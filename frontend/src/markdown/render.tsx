/**
 * Markdown shown safely: the lexer's tokens (parse.ts) become Preact elements one by one, and
 * every piece of the source reaches the page as a text node. Nothing here sets HTML:
 *
 * - raw HTML (`<script>`, `<img onerror=…>`, `<iframe>`, HTML blocks) is shown as its text;
 * - a link is a link only to an absolute `http:`, `https:` or `mailto:` URL (parse.ts: safeHref);
 *   any other is its text followed by the address as text;
 * - images are never loaded (an image from a response would tell its server who looks, and
 *   when): they are shown as their alt text and address, as text;
 * - code, inline and in blocks, is text inside `<code>`.
 *
 * Headings become bold paragraphs rather than `<h1>`…`<h6>`, so a response cannot rearrange
 * the page's outline (headings are how a screen reader moves through it).
 */

import type { ComponentChildren } from "preact";
import type { Token, Tokens } from "marked";
import { useEffect, useState } from "preact/hooks";
import { decodeEntities, lex, loadMarkdown, markdownReady, safeHref } from "./parse";

function inline(tokens: Token[] | undefined, literal = false): ComponentChildren[] {
  return (tokens ?? []).map((t) => inlineToken(t, literal));
}

function linkOut(t: Tokens.Link): ComponentChildren {
  const href = safeHref(t.autolink ? t.href : decodeEntities(t.href));
  const children = inline(t.tokens, !!t.autolink);
  if (href) {
    const title = t.title ? decodeEntities(t.title) : href;
    return <a class="md-link" href={href} title={title} target="_blank" rel="noopener noreferrer nofollow">{children}</a>;
  }
  // Not followed: the words and the address both stay readable, as text.
  const address = t.autolink ? t.href : decodeEntities(t.href);
  const same = address === t.text;
  return (
    <span class="md-link-blocked" title="This link is not followed: only http, https and mailto links are">
      {children}
      {!same && <span class="md-address">{` (${address})`}</span>}
    </span>
  );
}

function inlineToken(t: Token, literal: boolean): ComponentChildren {
  switch (t.type) {
    case "text": {
      const x = t as Tokens.Text;
      return x.tokens ? inline(x.tokens, literal) : literal ? x.text : decodeEntities(x.text);
    }
    case "escape":
      return (t as Tokens.Escape).text;
    case "strong":
      return <strong>{inline((t as Tokens.Strong).tokens, literal)}</strong>;
    case "em":
      return <em>{inline((t as Tokens.Em).tokens, literal)}</em>;
    case "del":
      return <del>{inline((t as Tokens.Del).tokens, literal)}</del>;
    case "codespan":
      return <code>{(t as Tokens.Codespan).text}</code>;
    case "br":
      return <br />;
    case "link":
      return linkOut(t as Tokens.Link);
    case "image": {
      const x = t as Tokens.Image;
      return (
        <span class="md-image" title="Images in responses are not loaded">
          {`[image${x.text ? `: ${decodeEntities(x.text)}` : ""}] (${decodeEntities(x.href)})`}
        </span>
      );
    }
    case "html":
      return <span class="md-raw">{(t as Tokens.HTML).text}</span>;
    case "checkbox":
      return <span class="md-check" aria-label={(t as Tokens.Checkbox).checked ? "done" : "not done"}>{(t as Tokens.Checkbox).checked ? "☑ " : "☐ "}</span>;
    default:
      // A token kind this page does not know: its source, as text.
      return "tokens" in t && Array.isArray(t.tokens) ? inline(t.tokens, literal) : t.raw;
  }
}

function block(t: Token): ComponentChildren {
  switch (t.type) {
    case "space":
    case "def":
      return null;
    case "paragraph":
      return <p>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case "text": // a tight list item's text, or text the lexer left at block level
      return <p class="md-tight">{inlineToken(t, false)}</p>;
    case "heading": {
      const x = t as Tokens.Heading;
      return <p class={`md-h md-h${x.depth}`}>{inline(x.tokens)}</p>;
    }
    case "hr":
      return <hr />;
    case "code": {
      const x = t as Tokens.Code;
      const lang = (x.lang ?? "").split(/\s/)[0] ?? "";
      return (
        <figure class="md-code">
          {lang && <figcaption class="md-lang">{lang}</figcaption>}
          <pre><code>{x.text}</code></pre>
        </figure>
      );
    }
    case "blockquote":
      return <blockquote>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case "list": {
      const x = t as Tokens.List;
      const items = x.items.map((it) => <li class={it.task ? "md-task" : undefined}>{blocks(it.tokens)}</li>);
      return x.ordered
        ? <ol start={typeof x.start === "number" && x.start !== 1 ? x.start : undefined}>{items}</ol>
        : <ul>{items}</ul>;
    }
    case "table": {
      const x = t as Tokens.Table;
      const align = (a: string | null) => (a ? `md-${a}` : undefined);
      return (
        <div class="md-table">
          <table>
            <thead><tr>{x.header.map((c) => <th scope="col" class={align(c.align)}>{inline(c.tokens)}</th>)}</tr></thead>
            <tbody>
              {x.rows.map((r) => <tr>{r.map((c) => <td class={align(c.align)}>{inline(c.tokens)}</td>)}</tr>)}
            </tbody>
          </table>
        </div>
      );
    }
    case "html":
      return <pre class="md-raw">{(t as Tokens.HTML).text}</pre>;
    default:
      return <p>{inlineToken(t, false)}</p>;
  }
}

function blocks(tokens: Token[]): ComponentChildren[] {
  return tokens.map(block);
}

/** Markdown source as safe elements, in a `div.md` (plain text until the parser has loaded). */
export function Markdown({ source, class: cls }: { source: string; class?: string }) {
  const [, loaded] = useState(markdownReady());
  useEffect(() => {
    if (!markdownReady()) void loadMarkdown().then(loaded);
  }, []);
  const tokens = lex(source);
  const name = cls ? `md ${cls}` : "md";
  return tokens ? <div class={name}>{blocks(tokens)}</div> : <div class={`${name} md-plain`}>{source}</div>;
}
