/**
 * Media fields (image, audio, video) hold a reference, never the bytes. A reference reaches
 * the page only as the `src` of an <img>, <audio> or <video>, and only when it is an http(s)
 * URL, a relative path, or `blob:<sha256>` (a file the server stores, served to the project's
 * members by `/api/projects/<id>/blobs/<sha256>`): never `javascript:`, `data:`, a browser's own
 * `blob:` URL or any other scheme. The CSP (src/labelloop/web/static.py) then allows only this
 * origin and https.
 */

import type { FieldSpec } from "./types";

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// Control characters and backslashes are how scheme checks get fooled ("java\tscript:", "\\\\host").
const SUSPICIOUS = /[\u0000-\u001f\u007f\\]/;
// A stored file: exactly "blob:" and a SHA-256 in lowercase hex (a browser's blob:https://... is not one).
const STORED = /^blob:([0-9a-f]{64})$/;

/** Which file of a stored image to load: the workbench shows the preview, lists the thumbnail; audio has its peaks. */
export type BlobVariant = "original" | "preview" | "thumb" | "peaks";

/** The project of the page on screen (`#/p/<id>/...`): stored files are read through it. */
export function routeProject(hash: string = location.hash): string | null {
  return /^#\/?p\/(\d+)(?:[/?]|$)/.exec(hash)?.[1] ?? null;
}

/** Whether a reference names a file the server stores (`blob:<sha256>`). */
export function isStored(reference: unknown): boolean {
  return typeof reference === "string" && STORED.test(reference.trim());
}

/**
 * The absolute URL to load for a media reference, or null when it is not safe to load. A stored
 * file resolves to the serving endpoint of `project` (the page's, by default) for `variant`.
 */
export function safeMediaUrl(
  reference: unknown, base: string = location.href, variant: BlobVariant = "preview",
  project: string | null = routeProject(),
): string | null {
  if (typeof reference !== "string") return null;
  const raw = reference.trim();
  if (!raw || SUSPICIOUS.test(raw)) return null;
  const stored = STORED.exec(raw);
  if (stored) {
    if (project === null || !/^\d+$/.test(project)) return null;
    return new URL(`/api/projects/${project}/blobs/${stored[1]}?variant=${variant}`, base).href;
  }
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
        {`This ${field.type} is not shown: its address is neither an http(s) URL, a relative path nor a stored file (`}
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

/** Thumbnails of an item's stored images, for a list of items (the rest stays text). */
export function Thumbs({ fields, data }: { fields: FieldSpec[]; data: Record<string, unknown> }) {
  const shown = fields.filter((f) => f.type === "image" && isStored(data[f.name]));
  return (
    <>
      {shown.map((f) => {
        const src = safeMediaUrl(data[f.name], location.href, "thumb");
        return src && <img class="thumb" src={src} alt={f.label || f.name} loading="lazy" />;
      })}
    </>
  );
}
