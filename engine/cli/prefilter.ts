// The batch path's first and cheapest decision (issue 10, "Speed over a tree"): one pass over a
// C file's bytes says whether anything at all can be reported on it, before any decode, parse or
// lowering. On a kernel tree about 2% of the files pass; the others cost a read and this scan.
//
// What can report, and so what the matcher looks for:
// - every rule starts from a call to a relevant API-table entry (engine/rules/relevance.ts; the
//   batch relevance filter already relies on it, and test/engine/relevance.test.ts holds every
//   rule to it), so a file whose bytes contain none of those names cannot produce a finding;
// - the annotation checker reports only on `@faultline` comments, so that marker counts too.
// Both are matched as plain byte substrings (a name inside a longer identifier or a comment
// counts), a superset of what the engine can see as a call: the filter can only keep too much,
// never drop a file the engine would report on. The names are ASCII, so a match in the UTF-8
// bytes is a match in the decoded text and the other way round.
//
// The matcher is an Aho-Corasick automaton compiled once into a flat transition table (one array
// load per byte, no backtracking, no per-name pass), so its cost does not grow with the table.

import { relevantApiNames } from '../rules/relevance';

/** The annotation marker (engine/rules/annotations.ts): a file that has one is always analyzed. */
export const ANNOTATION_MARKER = '@faultline';

export interface Prefilter {
  /** True when some name occurs in `bytes`: the file must be analyzed. */
  mayReport(bytes: Uint8Array): boolean;
  /** The names compiled in (sorted). */
  readonly names: readonly string[];
}

/**
 * Compile `names` (non-empty ASCII strings) into one automaton. Transitions are stored as
 * `next state * 256`, with -1 for "a name ends here", so the hot loop is one load and one sign
 * test per byte.
 */
export function compilePrefilter(names: Iterable<string>): Prefilter {
  const list = [...new Set([...names].filter((n) => n.length > 0))].sort();
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
  const empty = list.length === 0;
  return {
    names: list,
    mayReport(bytes: Uint8Array): boolean {
      if (empty) return false;
      let s = 0;
      for (let i = 0, len = bytes.length; i < len; i++) {
        s = table[s + bytes[i]];
        if (s < 0) return true;
      }
      return false;
    },
  };
}

/**
 * The prefilter for the current API table (read at call time: a table extended at run time is
 * covered). Compile it once per run, not per file.
 */
export function tablePrefilter(): Prefilter {
  return compilePrefilter([...relevantApiNames(), ANNOTATION_MARKER]);
}
