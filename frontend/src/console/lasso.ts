/**
 * The lasso of the embedding map: a closed polygon drawn by the pointer, and which points fall
 * inside it (the even-odd rule: a ray from the point crosses the outline an odd number of times).
 */

export type Pt = [number, number];

/** Whether (x, y) lies inside the closed polygon `poly` (its last vertex joins the first). */
export function inside(x: number, y: number, poly: Pt[]): boolean {
  let odd = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/** The indices of the points inside the polygon (none when it has fewer than three vertices). */
export function selected(xs: number[], ys: number[], poly: Pt[]): number[] {
  if (poly.length < 3) return [];
  const out: number[] = [];
  for (let k = 0; k < xs.length; k++) if (inside(xs[k]!, ys[k]!, poly)) out.push(k);
  return out;
}

/** The polygon as an SVG path (`M x y L x y ... Z`), two decimals: what is drawn is what selects. */
export function pathOf(poly: Pt[]): string {
  return poly.length ? `M ${poly.map(([x, y]) => `${x.toFixed(2)} ${y.toFixed(2)}`).join(" L ")} Z` : "";
}

/** Round a vertex as `pathOf` writes it, so the selection and the drawn outline are one polygon. */
export function rounded([x, y]: Pt): Pt {
  return [Number(x.toFixed(2)), Number(y.toFixed(2))];
}
