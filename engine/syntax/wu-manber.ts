// Wu-Manber tables (a multi-pattern Boyer-Moore-Horspool over blocks of two or three characters),
// shared by the batch path's two multi-word scans: the CLI's byte prefilter
// (engine/cli/prefilter.ts: bytes, stops at the first name) and the per-rule word scan
// (engine/rules/rule-relevance.ts wordFinder: a decoded text, marks every word). Each keeps its
// own scanning loop (bytes or UTF-16, first match or all); the tables and the block hash are one.
//
// The window is as long as the shortest pattern; the last block of the window looks up how far it
// may move. A block that ends no pattern's m-prefix moves it by up to m - width + 1, so most of
// the text is never looked at.

/** Three-character blocks are hashed to 15 bits (a collision only moves the window less far). */
export const BLOCK3_MASK = (1 << 15) - 1;

/** The block of three characters a, b, c (each below 0x100). */
export function block3(a: number, b: number, c: number): number {
  return ((a << 10) ^ (b << 5) ^ c) & BLOCK3_MASK;
}

/** The block of two characters a, b (each below 0x100). */
export function block2(a: number, b: number): number {
  return (a << 8) | b;
}

export interface WuManberTable {
  /** How far the window may move when its last block is this one (0: a pattern may end here). */
  shift: Uint8Array;
  /** Indexes of the patterns whose first m characters end with this block (shift 0). */
  cands: (number[] | undefined)[];
}

/**
 * The tables for `patterns` (character codes below 0x100: bytes, or ASCII words as latin1
 * bytes), window `m` (at most the shortest pattern's length) and blocks of `width` characters.
 */
export function wuManberTable(patterns: readonly ArrayLike<number>[], m: number, width: 2 | 3): WuManberTable {
  const blockAt = (p: ArrayLike<number>, i: number): number => (width === 3 ? block3(p[i - 2], p[i - 1], p[i]) : block2(p[i - 1], p[i]));
  const size = width === 3 ? BLOCK3_MASK + 1 : 65536;
  const shift = new Uint8Array(size).fill(Math.min(255, m - width + 1));
  const cands: (number[] | undefined)[] = new Array(size);
  patterns.forEach((p, pi) => {
    for (let q = width - 1; q < m; q++) {
      const block = blockAt(p, q);
      const sh = m - 1 - q;
      if (sh < shift[block]) shift[block] = sh;
    }
    (cands[blockAt(p, m - 1)] ??= []).push(pi);
  });
  return { shift, cands };
}
