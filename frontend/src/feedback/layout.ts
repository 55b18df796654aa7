/**
 * Side by side or stacked: how a person likes candidates laid out, remembered per person in
 * this browser. Until they choose, narrow screens stack (two columns of a few words each help
 * nobody) and wide ones put candidates side by side.
 */

import { useEffect, useState } from "preact/hooks";
import { currentUserId } from "./candidates";

export type LayoutMode = "columns" | "stacked";

/** Below this width (CSS pixels) candidates are stacked unless the person chose otherwise. */
export const NARROW = 800;

const listeners = new Set<() => void>();

function storageKey(): string {
  return `labelloop.feedback.layout.${currentUserId() ?? "anyone"}`;
}

export function layoutMode(): LayoutMode {
  try {
    const saved = localStorage.getItem(storageKey());
    if (saved === "columns" || saved === "stacked") return saved;
  } catch {
    // storage refused (private mode): the default below
  }
  return window.innerWidth < NARROW ? "stacked" : "columns";
}

export function setLayoutMode(mode: LayoutMode): void {
  try {
    localStorage.setItem(storageKey(), mode);
  } catch {
    // not remembered, but still applied to what is on screen
  }
  listeners.forEach((f) => f());
}

/** The current mode, re-rendered when it changes anywhere on the page. */
export function useLayoutMode(): LayoutMode {
  const [mode, setMode] = useState(layoutMode);
  useEffect(() => {
    const update = () => setMode(layoutMode());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return mode;
}
