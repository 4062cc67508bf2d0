// What a rule check read beyond its own function: the language server's session caches each
// function's findings (engine/session.ts) and must know when an edit elsewhere in the file changes
// them. Its key covers the function's text and its same-file callees; everything else a check
// reads is recorded here while it runs, and the cached entry is reused only while each read gives
// the same answer on the new text:
//
//   - a same-file function looked up by name (ctx.functionsByName.get/has, fileFunction): that
//     function's text (a callback named in an ops-struct initializer is not a callee);
//   - a file-wide fact (`fileFact`: computed from every function of the file or from the whole
//     text, e.g. the struct fields some function fills with GUP): its value, as a digest;
//   - a walk over every function that is not inside a declared fact: the whole file's text (the
//     safe fallback; declare the walk as a fact to keep edits elsewhere cheap).
//
// Outside a session run (the CLI, the engine) nothing is recorded and every call is a plain,
// memoised function call.

import type { FunctionIR } from '../ir';

/** One recorded read of a file-wide fact: enough to compute it again on a newer text. */
export interface FactRead {
  /** Fact id and arguments (markers for the run's map, text and cancellation). */
  key: string;
  /** Digest of the value the check saw. */
  digest: string;
  /** The same fact on another scope (the session's next analysis). */
  replay(scope: FactScope): string;
}

/** What a fact can be asked on: the run's functions by name and its text. */
export interface FactScope {
  byName: Map<string, FunctionIR>;
  text: string;
  cancelled: () => boolean;
}

/** Everything one function's checks read outside their own function and callees. */
export class CheckReads {
  /** Same-file functions looked up by name. */
  readonly names = new Set<string>();
  readonly facts = new Map<string, FactRead>();
  /** A walk over every function outside a declared fact. */
  wide = false;
  constructor(readonly scope: FactScope) {}
}

let current: CheckReads | undefined;
/** > 0 while a fact computes: its reads are covered by its value. */
let inFact = 0;

/** Record the reads of the code run until the next call into `r` (undefined: stop recording). */
export function recordReads(r: CheckReads | undefined): CheckReads | undefined {
  const prev = current;
  current = r;
  return prev;
}

/** A same-file function was looked up by name. */
export function noteFunctionRead(name: string): void {
  if (current && !inFact) current.names.add(name);
}

/** Every function of the file was walked. */
function noteWholeFileRead(): void {
  if (current && !inFact) current.wide = true;
}

const MAP = '\u0001map';
const TEXT = '\u0001text';
const CANCEL = '\u0001cancelled';

/** Digest of a fact's value: a stable serialization (sets and maps sorted, IR ranges included). */
const digests = new WeakMap<object, string>();
function digestOf(v: unknown): string {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v) : String(v);
  const hit = digests.get(v);
  if (hit !== undefined) return hit;
  const d = JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Set) return { set: [...x].map((e) => (typeof e === 'object' && e && 'name' in e ? (e as { name: string }).name : e)).sort() };
    if (x instanceof Map) return { map: [...x.entries()].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0)) };
    return x;
  });
  digests.set(v, d);
  return d;
}

/**
 * Declare a file-wide fact: `compute` may read every function (through the map it is given) or
 * the whole text; its callers' checks then depend on its value, not on everything it read.
 * Arguments are the run's functions-by-name map, its text, its cancellation callback, or plain
 * values (strings, numbers, booleans); results are memoised by the caller as before.
 */
export function fileFact<A extends unknown[], V>(id: string, compute: (...args: A) => V): (...args: A) => V {
  const fact = (...args: A): V => {
    const rec = current && !inFact ? current : undefined;
    inFact++;
    let v: V;
    try {
      v = compute(...args);
    } finally {
      inFact--;
    }
    if (rec) {
      const marks = args.map((a) => (a === rec.scope.byName ? MAP : a === rec.scope.text ? TEXT : typeof a === 'function' ? CANCEL : a));
      // An argument the next run cannot supply (another map, an IR object): no replay possible,
      // so the check depends on the whole file. Plain values and arrays of them are kept.
      const plain = (m: unknown): boolean => m === null || typeof m !== 'object' || (Array.isArray(m) && m.every((x) => x === null || typeof x !== 'object'));
      if (!marks.every(plain)) rec.wide = true;
      else {
        const key = `${id}(${marks.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\u0000')})`;
        if (!rec.facts.has(key))
          rec.facts.set(key, {
            key,
            digest: digestOf(v),
            replay: (scope) => digestOf(fact(...(marks.map((m) => (m === MAP ? scope.byName : m === TEXT ? scope.text : m === CANCEL ? scope.cancelled : m)) as A))),
          });
      }
    }
    return v;
  };
  return fact;
}

/**
 * The functions of a file by name, telling the recorder what a check looks up: by name (that
 * function's text matters) or by walking them all (everything matters, unless a declared fact
 * walks them).
 */
export class FunctionsByName extends Map<string, FunctionIR> {
  override get(name: string): FunctionIR | undefined {
    noteFunctionRead(name);
    return super.get(name);
  }
  override has(name: string): boolean {
    noteFunctionRead(name);
    return super.has(name);
  }
  override get size(): number {
    noteWholeFileRead();
    return super.size;
  }
  override values(): MapIterator<FunctionIR> {
    noteWholeFileRead();
    return super.values();
  }
  override keys(): MapIterator<string> {
    noteWholeFileRead();
    return super.keys();
  }
  override entries(): MapIterator<[string, FunctionIR]> {
    noteWholeFileRead();
    return super.entries();
  }
  override forEach(cb: (value: FunctionIR, key: string, map: Map<string, FunctionIR>) => void, thisArg?: unknown): void {
    noteWholeFileRead();
    super.forEach(cb, thisArg);
  }
  override [Symbol.iterator](): MapIterator<[string, FunctionIR]> {
    noteWholeFileRead();
    return super[Symbol.iterator]();
  }
}
