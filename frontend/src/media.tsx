/**
 * Media fields (image, audio, video) hold a reference, never the bytes. A reference reaches
 * the page only as the `src` of an <img>, <audio> or <video>, and only when it is an http(s)
 * URL or a relative path: never `javascript:`, `data:`, `blob:` or any other scheme. The CSP
 * (src/labelloop/web/static.py) then allows only this origin and https.
 */

import type { FieldSpec } from "./types";

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// Control characters and backslashes are how scheme checks get fooled ("java\tscript:", "\\\\host").
const SUSPICIOUS = /[\u0000-\u001f\u007f\\]/;

/** The absolute URL to load for a media reference, or null when it is not safe to load. */
export function safeMediaUrl(reference: unknown, base: string = location.href): string | null {
  if (typeof reference !== "string") return null;
  const raw = reference.trim();
  if (!raw || SUSPICIOUS.test(raw)) return null;
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "http" && scheme !== "https") return null;
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return null;
  }
  // Checked again after parsing: what is loaded is exactly what was checked.
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password) return null;
  return url.href;
}

export function Media({ field, value }: { field: FieldSpec; value: unknown }) {
  const name = field.label || field.name;
  const src = safeMediaUrl(value);
  if (value === undefined || value === null || value === "") {
    return <p class="media-ref muted">{`${name}: no ${field.type}`}</p>;
  }
  if (src === null) {
    return (
      <p class="media-ref notice" data-refused="true">
        {`This ${field.type} is not shown: its address is neither an http(s) URL nor a relative path (`}
        <code>{String(value).slice(0, 120)}</code>
        {")."}
      </p>
    );
  }
  if (field.type === "image") {
    return <img class="media" src={src} alt={name} loading="lazy" referrerpolicy="no-referrer" />;
  }
  if (field.type === "audio") {
    return <audio class="media" src={src} controls preload="metadata" aria-label={name} />;
  }
  return <video class="media" src={src} controls preload="metadata" aria-label={name} />;
}
