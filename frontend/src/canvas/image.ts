/**
 * The picture under the shapes. Shapes are always in the original image's pixels
 * (docs/images.md). A stored image (`blob:<sha256>`) is shown as the server's web-sized preview,
 * stretched over the original's size, which `GET …/blobs/<sha256>/info` gives (asked for while
 * the preview loads); any other image (an http(s) URL, a relative path) is the original itself,
 * and its natural size is the size.
 */

import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { isStored, routeProject, safeMediaUrl } from "../media";
import type { Size } from "./geometry";

export type ImageState =
  | { state: "loading" }
  | { state: "ready"; src: string; size: Size }
  | { state: "error"; message: string };

interface BlobInfo {
  width: number | null;
  height: number | null;
}

const REFUSED = "This image is not shown: its address is neither a stored image, an http(s) URL nor a relative path.";

/** The original's size of a stored image, from the server. */
async function storedSize(reference: string): Promise<Size> {
  const sha = reference.trim().slice("blob:".length);
  const info = await api<BlobInfo>("GET", `/api/projects/${routeProject()}/blobs/${sha}/info`);
  if (!info.width || !info.height) throw new Error("not an image");
  return { width: info.width, height: info.height };
}

// Pictures shown lately, so that another question on the same image (or the page coming back to
// it) draws at once instead of flashing "Loading" while the browser finds it in its cache.
const seen = new Map<string, Size>();
const SEEN = 20;

function remember(src: string, size: Size): void {
  seen.delete(src);
  seen.set(src, size);
  if (seen.size > SEEN) seen.delete(seen.keys().next().value!);
}

/** Loads the picture (decoded, so the first frame that shows it is complete) and settles its size. */
export function useImage(reference: unknown): ImageState {
  const src = safeMediaUrl(reference, location.href, "preview");
  const stored = isStored(reference);
  const known = (s: string | null): ImageState => {
    const size = s === null ? undefined : seen.get(s);
    return size && s ? { state: "ready", src: s, size } : { state: "loading" };
  };
  const [state, setState] = useState<ImageState>(() => known(src));
  useEffect(() => {
    if (src === null) return setState({ state: "error", message: REFUSED });
    const now = known(src);
    setState(now);
    if (now.state === "ready") return;
    let live = true;
    const img = new Image();
    img.referrerPolicy = "no-referrer";
    img.src = src;
    const natural = img.decode().then((): Size => ({ width: img.naturalWidth, height: img.naturalHeight }));
    Promise.all([natural, stored ? storedSize(reference as string) : natural])
      .then(([, size]) => {
        if (!live) return;
        if (size.width > 0 && size.height > 0) {
          remember(src, size);
          setState({ state: "ready", src, size });
        } else setState({ state: "error", message: "The image has no size." });
      })
      .catch(() => live && setState({ state: "error", message: "The image could not be loaded." }));
    return () => {
      live = false;
    };
  }, [src]);
  return state;
}
