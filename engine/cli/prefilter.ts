// The batch path's first and cheapest decision (issue 10, "Speed over a tree"): one pass over a
// C file's bytes says whether anything at all can be reported on it, before any decode, parse or
// lowering. On Linux 6.1 about 5% of the files pass (2,758 of 55,418); the others cost a read
// and this scan.
//
// What can report, and so what the matcher looks for:
// - a rule can fire only on a text that holds one of its triggers and one word of each of its
//   `needs` groups (engine/rules/rule-relevance.ts, where each rule's own file declares them;
//   test/engine/relevance.test.ts holds every rule to it), so per rule one of those sets is
//   enough: prefilterWords() takes the one whose shortest word is longest, and a file whose bytes
//   contain none of the words cannot produce a finding;
// - the annotation checker reports only on `@faultline` comments, so that marker counts too.
// Both are matched as plain byte substrings (a name inside a longer identifier or a comment
// counts), a superset of what the engine can see as a call: the filter can only keep too much,
// never drop a file the engine would report on. The names are ASCII, so a match in the UTF-8
// bytes is a match in the decoded text and the other way round.
//
// The matcher is compiled once per run. Wu-Manber (engine/syntax/wu-manber.ts, over blocks of two
// or three bytes): the window is as long as the shortest name, and a block that occurs in no
// name's prefix moves it on, so most bytes are never looked at (about 1 GB/s on kernel C, several
// times the byte-at-a-time automaton); a few names much shorter than the rest
// are looked for on their own (compilePrefilter). With a name shorter than two bytes it falls
// back to an Aho-Corasick automaton (one table load per byte).

import { prefilterWords } from '../rules/rule-relevance';
import { ANNOTATION_MARKER } from '../rules/annotations';
import { block2, block3, wuManberTable } from '../syntax/wu-manber';

export interface Prefilter {
  /** True when some name occurs in `bytes`: the file must be analyzed. */
  mayReport(bytes: Uint8Array): boolean;
  /** The names compiled in (sorted). */
  readonly names: readonly string[];
}

/**
 * Names shorter than this are looked for one by one with Buffer.indexOf (native), when there are
 * at most MAX_SHORT of them, so the Wu-Manber window is as long as the shortest of the others.
 * The current rules' words have none (prefilterWords leaves out gup-vaddr-no-notifier's kmap and
 * vmap); when they were compiled in, they held the window, and so every shift, to 3 bytes while
 * every other name had 7 or more: on Linux 6.1 (922 MB of C in memory) 1.54 s, against 1.05 s
 * for Wu-Manber over the long names plus 0.20 s for two indexOf passes. A table extended at run
 * time may bring such names back.
 */
const SHORT_NAME = 6;
const MAX_SHORT = 3;

/** Compile `names` (non-empty ASCII strings) into one matcher. */
export function compilePrefilter(names: Iterable<string>): Prefilter {
  const list = [...new Set([...names].filter((n) => n.length > 0))].sort();
  if (list.length === 0) return { names: list, mayReport: () => false };
  const short = list.filter((n) => n.length < SHORT_NAME);
  const long = list.filter((n) => n.length >= SHORT_NAME);
  if (short.length && short.length <= MAX_SHORT && long.length) {
    const scan = wuManber(long, Math.min(...long.map((n) => n.length)));
    const shorts = short.map((n) => Buffer.from(n, 'latin1'));
    return { names: list, mayReport: (bytes) => scan(bytes) || shorts.some((n) => Buffer.prototype.indexOf.call(bytes, n) >= 0) };
  }
  const min = Math.min(...list.map((n) => n.length));
  return { names: list, mayReport: min >= 2 ? wuManber(list, min) : ahoCorasick(list) };
}

/**
 * Blocks of three bytes from a window of this many on. With two-byte blocks, pairs that are
 * everywhere in C ("re", "et", "te", "se": the ends of names' 7-byte prefixes) stopped the
 * window at one step in eleven on Linux 6.1, each stop comparing three names on average;
 * three-byte blocks (hashed, so the table stays 32 KB) stop it far less often, for a longest move
 * one byte shorter. On the 1.18 GB of 6.1 C with the API table (shortest long name 7 bytes):
 * 1.97 s with two-byte blocks, 1.77 s with three (best of four each, kmap and vmap included).
 */
const THREE_BYTE_BLOCKS_FROM = 5;

/**
 * Wu-Manber (engine/syntax/wu-manber.ts) with blocks of 3 bytes from a window of
 * THREE_BYTE_BLOCKS_FROM on, else 2, and window m = the shortest name's length: where the
 * window's last block may end a name, the names whose m-prefix ends with it are compared in full.
 */
function wuManber(list: string[], m: number): (bytes: Uint8Array) => boolean {
  const three = m >= THREE_BYTE_BLOCKS_FROM;
  const pats = list.map((n) => Buffer.from(n, 'latin1'));
  const { shift, cands } = wuManberTable(pats, m, three ? 3 : 2);
  return (bytes: Uint8Array): boolean => {
    const n = bytes.length;
    let pos = m - 1;
    while (pos < n) {
      const block = three ? block3(bytes[pos - 2], bytes[pos - 1], bytes[pos]) : block2(bytes[pos - 1], bytes[pos]);
      const sh = shift[block];
      if (sh !== 0) { pos += sh; continue; }
      if (oneStartsAt(bytes, pos - m + 1, cands[block]!, pats)) return true;
      pos++;
    }
    return false;
  };
}

/** Whether one of the names `pats[i]`, i in `cs`, occurs in `bytes` at `start` (a window's candidates). */
function oneStartsAt(bytes: Uint8Array, start: number, cs: number[], pats: Uint8Array[]): boolean {
  const n = bytes.length;
  for (let c = 0; c < cs.length; c++) {
    const p = pats[cs[c]];
    const len = p.length;
    if (start + len > n) continue;
    let k = 0;
    while (k < len && bytes[start + k] === p[k]) k++;
    if (k === len) return true;
  }
  return false;
}

/**
 * Aho-Corasick over bytes (the fallback for names shorter than two bytes). Transitions are stored as
 * `next state * 256`, with -1 for "a name ends here", so the hot loop is one load and one sign
 * test per byte.
 */
export function ahoCorasick(list: string[]): (bytes: Uint8Array) => boolean {
  // Trie.
  const edges: Map<number, number>[] = [new Map()];
  const accept: boolean[] = [false];
  for (const name of list) {
    let s = 0;
    for (const byte of Buffer.from(name, 'latin1')) {
      let t = edges[s].get(byte);
      if (t === undefined) {
        t = edges.length;
        edges.push(new Map());
        accept.push(false);
        edges[s].set(byte, t);
      }
      s = t;
    }
    accept[s] = true;
  }
  // Failure links, breadth first, folded into a complete DFA.
  const n = edges.length;
  const delta = new Int32Array(n * 256);
  const fail = new Int32Array(n);
  const queue: number[] = [];
  for (let c = 0; c < 256; c++) {
    const t = edges[0].get(c);
    delta[c] = t ?? 0;
    if (t !== undefined) queue.push(t);
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi];
    accept[s] = accept[s] || accept[fail[s]];
    for (let c = 0; c < 256; c++) {
      const t = edges[s].get(c);
      if (t !== undefined) {
        fail[t] = delta[fail[s] * 256 + c];
        delta[s * 256 + c] = t;
        queue.push(t);
      } else {
        delta[s * 256 + c] = delta[fail[s] * 256 + c];
      }
    }
  }
  const table = new Int32Array(n * 256);
  for (let i = 0; i < table.length; i++) {
    const t = delta[i];
    table[i] = accept[t] ? -1 : t * 256;
  }
  return (bytes: Uint8Array): boolean => {
    let s = 0;
    for (let i = 0, len = bytes.length; i < len; i++) {
      s = table[s + bytes[i]];
      if (s < 0) return true;
    }
    return false;
  };
}

/**
 * The prefilter for the current API table and rules (read at call time: a table extended at run
 * time is covered). Compile it once per run, not per file.
 */
export function tablePrefilter(): Prefilter {
  return compilePrefilter([...prefilterWords(), ANNOTATION_MARKER]);
}
