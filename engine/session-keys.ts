// Cache keys of the session (engine/session.ts) in time linear in the file: a function's findings
// depend on its own text and on the text of every same-file function it reaches through calls
// (helper summaries). Spelling that closure out per function is quadratic (a chain of 5,000
// functions: 12.5 million texts); instead each strongly connected component of the same-file
// call graph gets a hash of its members' texts and of the hashes of the components it calls
// (a Merkle DAG over the condensation), computed once per analysis.

import type { FunctionIR } from './ir';
import { stronglyConnected } from './scc';

/**
 * A 128-bit string hash (four independent multiplicative lanes, cyrb53-style, each finished with
 * murmur3's fmix32) plus the length. Not cryptographic: a collision would reuse another function's
 * cached findings.
 */
export function hashText(s: string, from = 0, to = s.length): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57, h3 = 0x9e3779b9, h4 = 0x85ebca6b;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
    h3 = Math.imul(h3 ^ c, 2246822507);
    h4 = Math.imul(h4 ^ c, 3266489909);
  }
  // Final avalanche per lane (murmur3's fmix32), then four 32-bit words in hex.
  const fmix = (h: number): string => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0).toString(16);
  };
  return `${fmix(h1 ^ Math.imul(h2, 31))}${fmix(h2 ^ h3)}.${fmix(h3 ^ Math.imul(h4, 17))}${fmix(h4 ^ h1)}.${to - from}`;
}

export interface CallGraphKeys {
  /** Cache key of function i: its own hash and the hash of everything it reaches. */
  key(i: number): string;
  /** Positions of function i and everything it reaches (for entries whose findings point outside). */
  absoluteKey(i: number): string;
}

/**
 * Keys for `functions` given each one's own-text hash (`own`, parallel). Calls resolve to the
 * first function of a name (as ctx.functionsByName does). Components by engine/scc.ts
 * (iterative: a chain of any length is fine).
 */
export function sameFileCallGraphKeys(functions: FunctionIR[], own: string[]): CallGraphKeys {
  const n = functions.length;
  const index = new Map<string, number>();
  functions.forEach((f, i) => { if (!index.has(f.name)) index.set(f.name, i); });
  // Adjacency (deduplicated per function).
  const succStart = new Int32Array(n + 1);
  const succ: number[] = [];
  const stamp = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    succStart[i] = succ.length;
    for (const b of functions[i].blocks)
      for (const s of b.stmts) {
        if (s.kind !== 'call') continue;
        const j = index.get(s.callee);
        if (j === undefined || stamp[j] === i) continue;
        stamp[j] = i;
        succ.push(j);
      }
  }
  succStart[n] = succ.length;

  // Components come out callees first (reverse topological order).
  const comps = stronglyConnected(n, (v) => succ.slice(succStart[v], succStart[v + 1])).map((m) => m.sort((x, y) => x - y));
  const comp = new Int32Array(n).fill(-1);
  comps.forEach((members, c) => { for (const m of members) comp[m] = c; });

  // Component hashes, callees first: members' own hashes, then the called components' hashes.
  const compHash: string[] = new Array(comps.length);
  const compAbs: string[] = new Array(comps.length);
  const seen = new Int32Array(comps.length).fill(-1);
  comps.forEach((members, c) => {
    let text = '';
    let abs = '';
    for (const m of members) {
      text += `${functions[m].name}\u0000${own[m]}\u0001`;
      abs += `${functions[m].range.start},`;
    }
    const called: number[] = [];
    for (const m of members)
      for (let e = succStart[m]; e < succStart[m + 1]; e++) {
        const d = comp[succ[e]];
        if (d === c || seen[d] === c) continue;
        seen[d] = c;
        called.push(d);
      }
    called.sort((a, b) => a - b);
    for (const d of called) {
      text += `\u0002${compHash[d]}`;
      abs += `;${compAbs[d]}`;
    }
    compHash[c] = hashText(text);
    compAbs[c] = hashText(abs);
  });
  return {
    key: (i) => `${own[i]}:${compHash[comp[i]]}`,
    absoluteKey: (i) => `${functions[i].range.start}:${compAbs[comp[i]]}`,
  };
}
