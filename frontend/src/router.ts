/**
 * Routes live in the URL hash, so the server serves one page and a reload keeps the place.
 * A route may carry a query after `?` (e.g. the data browser's filters): `#/p/1/items?q=x`.
 */

import { useEffect, useState } from "preact/hooks";

function hashParts(): [string, string] {
  const hash = location.hash.replace(/^#\/?/, "");
  const at = hash.indexOf("?");
  return at < 0 ? [hash, ""] : [hash.slice(0, at), hash.slice(at + 1)];
}

export function currentRoute(): string[] {
  return hashParts()[0].split("/").filter(Boolean);
}

/** The route's query (`?a=1&b=2` after the path in the hash). */
export function routeQuery(): URLSearchParams {
  return new URLSearchParams(hashParts()[1]);
}

/** Replace the route's query without a new history entry or a navigation. */
export function setRouteQuery(params: URLSearchParams): void {
  const path = hashParts()[0];
  const query = params.toString();
  history.replaceState(history.state, "", `#/${path}${query ? `?${query}` : ""}`);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function go(path: string): void {
  location.hash = "#" + path;
}
