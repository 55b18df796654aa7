/**
 * COCO's compressed run-length encoding of binary masks, as pycocotools writes and reads it
 * (cocodataset/cocoapi, common/maskApi.c: rleEncode, rleToString, rleFrString).
 *
 * A mask of height h and width w is read column by column (column-major: pixel (x, y) is at
 * x * h + y). `counts` are the lengths of alternating runs of 0s and 1s, starting with 0s (so a
 * mask whose first pixel is set starts with a run of length 0). The string form stores each
 * count, from the third on as the difference to the count two before, in a LEB128-like code of
 * 5 bits per character (bit 5 says another character follows, bit 4 of the last one is the
 * sign), offset by 48 so every character is printable ('0' to 'o').
 */

export interface Rle {
  /** [height, width], as COCO writes it. */
  size: [number, number];
  counts: string;
}

/** Run lengths of a column-major mask (0s first). */
export function maskToCounts(mask: Uint8Array): number[] {
  const counts: number[] = [];
  let want = 0;
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v !== want) {
      counts.push(run);
      run = 0;
      want = v;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

export function countsToString(counts: number[]): string {
  let s = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** The counts of a COCO string, or an error naming where it is broken. */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`RLE counts end in the middle of a number (character ${p})`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE counts hold ${JSON.stringify(s[p])} at character ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(x);
  }
  return counts;
}

export function encode(mask: Uint8Array, height: number, width: number): Rle {
  if (mask.length !== height * width) throw new Error(`a ${height}x${width} mask needs ${height * width} pixels`);
  return { size: [height, width], counts: countsToString(maskToCounts(mask)) };
}

/** The column-major mask of an RLE; throws when its runs do not add up to the image. */
export function decode(rle: Rle): Uint8Array {
  const [h, w] = rle.size;
  const mask = new Uint8Array(h * w);
  forEachRun(rle, (start, length) => mask.fill(1, start, start + length));
  return mask;
}

/** Calls `run(start, length)` for each run of 1s, in column-major pixel indices. */
export function forEachRun(rle: Rle, run: (start: number, length: number) => void): void {
  const [h, w] = rle.size;
  const counts = stringToCounts(rle.counts);
  let total = 0;
  for (const c of counts) {
    if (c < 0) throw new Error("RLE counts hold a negative run");
    total += c;
  }
  if (total !== h * w) throw new Error(`RLE runs cover ${total} pixels, the ${h}x${w} image has ${h * w}`);
  let pos = 0;
  counts.forEach((c, i) => {
    if (i % 2 === 1 && c > 0) run(pos, c);
    pos += c;
  });
}

/** Number of set pixels. */
export function area(rle: Rle): number {
  let n = 0;
  forEachRun(rle, (_s, len) => (n += len));
  return n;
}

/**
 * The mask as vertical segments, one per column and run ([x, y, length]), with neighbouring
 * columns that hold the same run merged into one rectangle ([x, y, length, width]).
 */
export function rects(rle: Rle): [number, number, number, number][] {
  const h = rle.size[0];
  const out: [number, number, number, number][] = [];
  // Rectangles that reached the previous column, and those that reach the current one, by run.
  let prev = new Map<string, [number, number, number, number]>();
  let cur = new Map<string, [number, number, number, number]>();
  let column = -1;
  const add = (x: number, y: number, len: number) => {
    if (x !== column) {
      prev = x === column + 1 ? cur : new Map();
      cur = new Map();
      column = x;
    }
    const key = `${y},${len}`;
    const grown = prev.get(key);
    if (grown) grown[3]++;
    else out.push([x, y, len, 1]);
    cur.set(key, grown ?? out[out.length - 1]!);
  };
  forEachRun(rle, (start, length) => {
    let p = start;
    let left = length;
    while (left > 0) {
      const x = Math.floor(p / h);
      const y = p - x * h;
      const take = Math.min(left, h - y);
      add(x, y, take);
      p += take;
      left -= take;
    }
  });
  return out;
}
