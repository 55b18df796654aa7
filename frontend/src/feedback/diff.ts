/**
 * A character diff for showing a rewrite as it is typed. Only for display: the server computes
 * the stored diff itself (difflib's opcodes, docs/feedback.md) and ignores any the page sends.
 *
 * Myers' greedy algorithm finds a shortest edit script in O((N + M) · D) time for texts of N and
 * M characters that differ by D insertions and deletions (E. W. Myers, "An O(ND) difference
 * algorithm and its variations", Algorithmica 1, 1986). The snapshots kept for backtracking
 * take O(D²) memory, so past `MAX_EDITS` the diff is redone on words, and past that again the
 * changed middle is shown as one deletion and one insertion: a display that stays quick on any
 * text, exact whenever the edit is of the size people make by hand.
 */

export type DiffOp = { op: "equal" | "insert" | "delete"; text: string };

const MAX_EDITS = 1200;

/** The edit script turning `a` into `b` (null when it takes more than `cap` edits). */
function myers(a: string[], b: string[], cap: number): DiffOp[] | null {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[-d-1 .. d+1] as it was when step d began.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    if (d > cap) return null;
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) x++, y++;
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d >= 0; d--) {
    const snap = trace[d]!;
    const at = (k: number) => snap[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ op: "equal", text: a[--x]! }), y--;
    if (d > 0) {
      if (x === prevX) ops.push({ op: "insert", text: b[--y]! });
      else ops.push({ op: "delete", text: a[--x]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** Runs of the same kind joined into one. */
function merged(ops: DiffOp[]): DiffOp[] {
  const out: DiffOp[] = [];
  for (const o of ops) {
    if (!o.text) continue;
    const last = out[out.length - 1];
    if (last && last.op === o.op) last.text += o.text;
    else out.push({ ...o });
  }
  return out;
}

const WORDS = /\s+|[\p{L}\p{N}\p{M}_]+|[^]/gu;

/** How `before` became `after`: equal, deleted and inserted runs, in order (code points). */
export function charDiff(before: string, after: string): DiffOp[] {
  const a = Array.from(before);
  const b = Array.from(after);
  // The common ends cost nothing to find and are most of a typical rewrite.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) endA--, endB--;
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const middle = myers(midA, midB, MAX_EDITS)
    ?? myers(midA.join("").match(WORDS) ?? [], midB.join("").match(WORDS) ?? [], MAX_EDITS)
    ?? [{ op: "delete" as const, text: midA.join("") }, { op: "insert" as const, text: midB.join("") }];
  return merged([
    { op: "equal", text: a.slice(0, start).join("") },
    ...middle,
    { op: "equal", text: a.slice(endA).join("") },
  ]);
}

/**
 * The server's stored diff (difflib opcodes `[tag, a0, a1, b0, b1]` over code points of the
 * original and the rewrite) as runs; null when it does not fit the two texts (then the page
 * computes its own).
 */
export function opsFromOpcodes(before: string, after: string, opcodes: unknown): DiffOp[] | null {
  if (!Array.isArray(opcodes)) return null;
  const a = Array.from(before);
  const b = Array.from(after);
  const ops: DiffOp[] = [];
  let ia = 0;
  let ib = 0;
  for (const row of opcodes) {
    if (!Array.isArray(row) || row.length !== 5) return null;
    const [tag, a0, a1, b0, b1] = row as [unknown, number, number, number, number];
    if (![a0, a1, b0, b1].every(Number.isInteger) || a0 !== ia || b0 !== ib || a1 < a0 || b1 < b0) return null;
    if (a1 > a.length || b1 > b.length) return null;
    if (tag === "equal") ops.push({ op: "equal", text: a.slice(a0, a1).join("") });
    else if (tag === "delete" || tag === "insert" || tag === "replace") {
      ops.push({ op: "delete", text: a.slice(a0, a1).join("") }, { op: "insert", text: b.slice(b0, b1).join("") });
    } else return null;
    ia = a1;
    ib = b1;
  }
  return ia === a.length && ib === b.length ? merged(ops) : null;
}

/**
 * Characters a rewrite changed, counted as the server counts them for `min_change`
 * (docs/feedback.md): each block of changes counts its longer side (a replaced word counts its
 * length once, not twice).
 */
export function changedCount(ops: DiffOp[]): number {
  let total = 0;
  let del = 0;
  let ins = 0;
  for (const o of [...ops, { op: "equal" as const, text: "" }]) {
    if (o.op === "equal") {
      total += Math.max(del, ins);
      del = ins = 0;
    } else if (o.op === "delete") del += Array.from(o.text).length;
    else ins += Array.from(o.text).length;
  }
  return total;
}

/** Characters deleted and inserted. */
export function changeCount(ops: DiffOp[]): { deleted: number; inserted: number } {
  let deleted = 0;
  let inserted = 0;
  for (const o of ops) {
    if (o.op === "delete") deleted += Array.from(o.text).length;
    if (o.op === "insert") inserted += Array.from(o.text).length;
  }
  return { deleted, inserted };
}
