// Relevance spreading shared by the two batch-mode filters (engine/syntax/blank-irrelevant.ts on
// the text, engine/lower/relevance.ts on the tree). Which same-file functions the rules can need:
//
// - seeds: items that name a relevant API (engine/rules/relevance.ts);
// - callers, transitively: a function that names a needed caller-side function may see its pin
//   or release through the helper summaries (gup-summaries.ts), so it is needed too ("up");
// - callees, transitively, of everything needed so far: a needed function's helpers must be
//   present for their summaries ("code we cannot see" and "a known no-op" differ) ("down").
//
// Directed on purpose: a helper that a needed function calls does not make that helper's other
// callers needed (they cannot see anything relevant through it), and a data item (an ops table,
// an EXPORT_SYMBOL line) that names a function is a reference, not a call: it neither needs the
// functions it names nor is needed by them. Items the callers keep anyway (anything that is not
// a plain function definition) stay kept, but only feed the spreading when they name a relevant
// API or a needed function (then they are code that may report, and their callees are needed).

export interface RelevanceItem {
  /** Function name, for items that are function definitions. */
  name?: string;
  /** Identifiers the item's text mentions. */
  ids: Set<string>;
  /** In: names a relevant API (or must be kept anyway). Out: kept (in) or needed after spreading. */
  relevant: boolean;
  /**
   * A data item (declaration, initializer, top-level macro invocation): the names in it are
   * references, not calls. Undefined: treated as code (the conservative side).
   */
  data?: boolean;
  /**
   * Other names this item may define: function definitions nested inside it, which tree-sitter's
   * error recovery turns into functions of their own (a missing `}` above them). A caller of one
   * of them sees its summary, as it would see that of a top-level function.
   */
  alsoDefines?: string[];
}

/** Spread flags of a relevant name: its callers are needed, its callees are needed. */
export const CALLERS = 1;
export const CALLEES = 2;
/**
 * Callees only if they reach the interest set (RelevantNames.interest): a same-file callee that
 * names no interest name, itself or through its own same-file callees, is not needed. CALLEES on
 * the same name wins (every callee).
 */
export const REACHING = 4;

/**
 * A relevant-name set (engine/rules/rule-relevance.ts) may say, per name, which way relevance
 * spreads from a function that names it (`spread`: CALLERS | CALLEES, the default for a name it
 * does not list). A name of rules that report only in the function calling the API itself needs
 * no callers (a GUP rule's events all start at an acquisition in the function); a name of rules
 * for which an absent same-file callee reads exactly like a present one that reaches no relevant
 * call needs no callees (a page-fault region summary: "balanced" and "not in this file" change
 * nothing in the caller). The callers brought in for a name that needs no callees need none
 * either; those brought in for a name that needs both need their callees.
 */
export interface RelevantNames extends ReadonlySet<string> {
  readonly spread?: ReadonlyMap<string, number>;
  /**
   * For the names that spread REACHING: the API names the analyses of their rules read at all
   * (Rule.relevance.reads, the union over the rules that can fire). Those rules read a call to a
   * present function that reaches none of them as a call to a function not in the text, so such a
   * callee is left out. A union only keeps more.
   */
  readonly interest?: ReadonlySet<string>;
}

/** Work of the last spreadRelevance call: ids and edges looked at (tests: it stays linear). */
export let lastSpreadWork = 0;

/**
 * Mark every needed item relevant. `relevantApis`: the relevant API names, to tell a kept item
 * that names one (a seed) from one that is only kept; without it every item that comes in
 * relevant is a seed (the previous, coarser behaviour).
 */
export function spreadRelevance(items: RelevanceItem[], relevantApis?: RelevantNames): void {
  // The directed same-file reference graph is i -> j when i's text names function j (j != i).
  // It is kept through the names, never as item-to-item edges: a name defined k times (a file
  // that repeats its functions, or a definition per #ifdef branch) that is named by m items
  // would otherwise make k * m edges (quadratic: 10,000 copies of one function that names
  // itself made 10^8). Reaching a name reaches every item defined under it, and each name is
  // expanded once per direction, so the work is linear in the total size of the `ids` sets.
  // Self-edges (an item naming itself) change no reachability, so j != i needs no test here.
  let work = 0;
  const byName = new Map<string, number[]>();
  const define = (name: string, i: number): void => {
    const l = byName.get(name);
    if (l) l.push(i); else byName.set(name, [i]);
  };
  items.forEach((it, i) => {
    if (it.name) define(it.name, i);
    if (it.alsoDefines) for (const n of it.alsoDefines) if (n !== it.name) define(n, i);
  });
  // Items that name each defined function (its callers, data items included).
  const namedBy = new Map<string, number[]>();
  items.forEach((it, i) => {
    for (const id of it.ids) {
      work++;
      if (!byName.has(id)) continue;
      const l = namedBy.get(id);
      if (l) l.push(i); else namedBy.set(id, [i]);
    }
  });
  const namesApi = (it: RelevanceItem): boolean => {
    if (!relevantApis) return true;
    for (const id of it.ids) if (relevantApis.has(id)) return true;
    return false;
  };
  const seed = items.map((it) => it.relevant && (it.name !== undefined ? true : namesApi(it)));
  // What each seed asks for (see RelevantNames); an item that is no definition asks for both.
  const spread = relevantApis?.spread;
  const wants = (it: RelevanceItem): number => {
    if (!spread || it.name === undefined) return CALLERS | CALLEES;
    let w = 0;
    let named = false;
    for (const id of it.ids) {
      work++;
      if (!relevantApis!.has(id)) continue;
      named = true;
      w |= spread.get(id) ?? CALLERS | CALLEES;
      if (w === (CALLERS | CALLEES)) break;
    }
    return named ? w : CALLERS | CALLEES;
  };
  const want = seed.map((s, i) => (s ? wants(items[i]) : 0));
  // Up: callers of needed items, transitively (data items are not callers). An item that
  // becomes needed makes its name's callers needed: once per name. Twice: from the seeds that
  // need callers and callees (the callers found need their callees too), then from all that
  // need callers.
  const queue: number[] = [];
  // Marks `up` (the items to start from, marked in place) and their callers, transitively.
  const callersOf = (up: boolean[]): boolean[] => {
    const upNames = new Set<string>();
    up.forEach((u, i) => { if (u) queue.push(i); });
    while (queue.length) {
      const it = items[queue.pop() as number];
      // A nested definition (alsoDefines) has callers like a top-level one.
      for (const name of it.alsoDefines ? [it.name, ...it.alsoDefines] : [it.name]) {
        if (name === undefined || upNames.has(name)) continue;
        upNames.add(name);
        for (const j of namedBy.get(name) ?? []) {
          work++;
          if (!up[j] && !items[j].data) { up[j] = true; queue.push(j); }
        }
      }
    }
    return up;
  };
  const upFrom = (start: (i: number) => boolean): boolean[] => callersOf(seed.map((s, i) => s && start(i)));
  // Marks the callees of the items queued, transitively, that `accept` takes; a name already
  // expanded (downNames, shared by the passes) is not expanded again.
  const downNames = new Set<string>();
  const calleesOf = (mark: boolean[], accept: (j: number) => boolean): void => {
    while (queue.length) {
      const i = queue.pop() as number;
      for (const id of items[i].ids) {
        work++;
        if (downNames.has(id)) continue;
        const targets = byName.get(id);
        if (!targets) continue;
        downNames.add(id);
        for (const j of targets) {
          work++;
          if (!mark[j] && accept(j)) { mark[j] = true; queue.push(j); }
        }
      }
    }
  };
  const upBoth = upFrom((i) => (want[i] & (CALLERS | CALLEES)) === (CALLERS | CALLEES));
  const upAny = spread ? upFrom((i) => (want[i] & CALLERS) !== 0) : upBoth;
  const up = upBoth.map((u, i) => u || (seed[i] && (want[i] & CALLEES) !== 0));
  // Callers of seeds that want callers and reaching callees need their reaching callees.
  const interest = relevantApis?.interest;
  const narrowed = interest && want.some((w) => (w & REACHING) !== 0 && (w & CALLEES) === 0);
  const upReach = narrowed ? upFrom((i) => (want[i] & (CALLERS | REACHING)) === (CALLERS | REACHING)) : undefined;
  // Down: callees of needed items, transitively. A data item that is a seed (it names an API)
  // is treated as code: it may be a definition the scan did not recognize. Each defined name an
  // item mentions brings in every item defined under it: once per name.
  const need = up.slice();
  need.forEach((u, i) => { if (u) queue.push(i); });
  calleesOf(need, () => true);
  // Down again, only into callees that reach the interest set (items that name an interest
  // name, and their callers), from the items that want those and are not expanded already: the
  // seeds that want them and their callers (upReach).
  if (narrowed) {
    const reach = callersOf(items.map((it) => {
      if (it.data) return false;
      for (const id of it.ids) { work++; if (interest.has(id)) return true; }
      return false;
    }));
    need.forEach((u, i) => { if (!u && (upReach![i] || (seed[i] && (want[i] & REACHING) !== 0))) { need[i] = true; queue.push(i); } });
    calleesOf(need, (j) => reach[j]);
  }
  // Each item enters each work list at most once and each name is expanded once per direction:
  // linear in the number of items plus the total size of their `ids`.
  items.forEach((it, i) => { it.relevant = it.relevant || need[i] || seed[i] || upAny[i]; });
  lastSpreadWork = work;
}

// Identifiers as tree-sitter's C grammar reads them (XID_Start / XID_Continue, `_`, `$`), so
// UTF-8 names are one name (fuzz seed 41 #7849: `teardowné` was split into another name than
// the parser's) and a no-break or ideographic space glued to a name is not part of it (seed 43).
export const IDENT_SOURCE = '(?:\\p{XID_Start}|_|\\$)(?:\\p{XID_Continue}|\\$)*';
const IDENT = new RegExp(IDENT_SOURCE, 'gu');
const WHOLE_IDENT = new RegExp(`^${IDENT_SOURCE}$`, 'u');

/**
 * Every identifier-shaped word of `s` (keywords included: harmless, they name no function). A
 * word that starts inside a number (`0x7fffffffget_user_pages_fast`: the match starts at the
 * `x`) is where the parser ends the number and starts an identifier, which depends on the number's
 * digits and suffix letters (fuzz seed 61 #6774: the parser read a call of get_user_pages_fast
 * there): every tail of such a word that starts with a letter, `_` or `$` is added too, a superset
 * of the parser's.
 */
export function identifiersOf(s: string): Set<string> {
  return identifiersIn(s, 0, s.length);
}

/**
 * identifiersOf(text.slice(from, to)) without the copy. Kernel code is ASCII: there the words
 * are read by hand (in ASCII, XID_Start is a letter and XID_Continue a letter, a digit or `_`),
 * which is several times faster than the Unicode regex; a range with any other character goes
 * to the regex, which defines the words.
 */
export function identifiersIn(text: string, from: number, to: number): Set<string> {
  const out = new Set<string>();
  for (let i = from; i < to;) {
    const c = text.charCodeAt(i);
    if (c >= 128) return identifiersByRegex(text.slice(from, to));
    if (!isAsciiIdentStart(c)) { i++; continue; }
    let j = i + 1;
    for (; j < to; j++) {
      const d = text.charCodeAt(j);
      if (d >= 128) return identifiersByRegex(text.slice(from, to));
      if (!isAsciiIdentChar(d)) break;
    }
    addWord(out, text.slice(i, j), i > from && afterNumber(text, i, from));
    i = j;
  }
  return out;
}

/**
 * Identifiers of text ranges already read, by range start: `ids` are identifiersIn(text, start,
 * end) and `nested`, when present, nestedDefinitionNames(text, start, end). The text scan
 * (engine/syntax/blank-irrelevant.ts) records each item's code (from its first character that is
 * neither white space nor comment to its end), which is where the tree filter's items
 * (engine/lower/relevance.ts) start and end nine times in ten: on the relevant Linux 6.1 files,
 * 17.3 of the 18.7 MB that filter read, and its time went from 0.76 to 0.51 s. Valid for any text
 * with the same characters in those ranges (the blanked text keeps the kept items as they are).
 */
export type IdentifierMemo = ReadonlyMap<number, RangeRead>;

/** What a scan read of one range of text (IdentifierMemo). */
export interface RangeRead { end: number; ids: Set<string>; nested?: string[] }

/** identifiersIn(text, from, to), from `memo` when it holds that very range. */
export function identifiersOfRange(text: string, from: number, to: number, memo: IdentifierMemo | undefined): Set<string> {
  const m = memo?.get(from);
  return m !== undefined && m.end === to ? m.ids : identifiersIn(text, from, to);
}

/**
 * nestedDefinitionNames(text, from, to), from `memo` when it holds that very range (the scan
 * records them only for items with nothing but white space before their code: a comment there
 * may hold a `(` or a word the look-back would read).
 */
export function nestedDefinitionsOfRange(text: string, from: number, to: number, memo: IdentifierMemo | undefined): string[] | undefined {
  const m = memo?.get(from);
  return m !== undefined && m.end === to && 'nested' in m ? m.nested : nestedDefinitionNames(text, from, to);
}

/** `[A-Za-z_$]`: an ASCII character that can start an identifier. */
export function isAsciiIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

/** `[A-Za-z0-9_$]`: an ASCII character that can be part of an identifier (or of a number). */
export function isAsciiIdentChar(c: number): boolean {
  return isAsciiIdentStart(c) || (c >= 48 && c <= 57);
}

function identifiersByRegex(s: string): Set<string> {
  const out = new Set<string>();
  IDENT.lastIndex = 0;
  for (let m = IDENT.exec(s); m; m = IDENT.exec(s)) addWord(out, m[0], afterNumber(s, m.index));
  return out;
}

/** Add a word; one that starts inside a number adds its letter-started tails too (identifiersOf). */
function addWord(out: Set<string>, w: string, inNumber: boolean): void {
  out.add(w);
  if (inNumber) {
    for (let j = 1; j < w.length; j++) if (isAsciiIdentStart(w.charCodeAt(j))) out.add(w.slice(j));
  }
}

/**
 * Whether the text just before `i` ends number characters (a digit, or a digit then a `'` digit
 * separator or a `.`): an identifier-shaped word starting at `i` may then start inside a number,
 * where the parser's identifier starts wherever the number's digits and suffix letters end. The
 * relevance scans (here and engine/rules/rule-relevance.ts) count such a word's tails as names.
 */
export function afterNumber(s: string, i: number, floor = 0): boolean {
  const isDigit = (k: number): boolean => k >= floor && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57;
  const p = s.charCodeAt(i - 1);
  return isDigit(i - 1) || ((p === 39 /* ' */ || p === 46 /* . */) && isDigit(i - 2));
}

/** C keywords that error recovery can leave as a function's name; no call names such a function. */
const KEYWORD_NAMES: ReadonlySet<string> = new Set(['if', 'else', 'while', 'for', 'do', 'switch', 'case', 'default', 'return', 'goto', 'break', 'continue', 'sizeof']);

const NOT_A_TYPE = new Set(['if', 'while', 'for', 'switch', 'return', 'else', 'do', 'case', 'goto', 'sizeof', 'typeof', '__typeof__', 'defined', 'default']);

/**
 * Names of what looks like a function definition nested in `text[from, to)` (a function body):
 * `type name(...) {`, or `type *name(...) {`, at any depth. Never valid kernel C, but a file
 * with a missing `}` above a function has exactly that, and tree-sitter's error recovery makes a
 * function of it, which the lowering lowers like any other (engine/lower/index.ts nestedFunction).
 * The relevance filters must then know that the item defines that name too. Over-approximate
 * on purpose (comments and strings are not skipped): a name too many only keeps more code.
 * Linear: each `{` looks back over one parenthesised group, found through a stack of `(`.
 */
export function nestedDefinitionNames(text: string, from: number, to: number): string[] | undefined {
  let out: string[] | undefined;
  const opens: number[] = [];
  let lastClose = -1;
  let lastCloseOpen = -1;
  let prevCode = -1;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 40 /* ( */) opens.push(i);
    else if (c === 41 /* ) */) { lastClose = i; lastCloseOpen = opens.length ? (opens.pop() as number) : -1; }
    else if (c === 123 /* { */ && prevCode === lastClose && lastCloseOpen >= 0) {
      const name = definitionBefore(text, lastCloseOpen, from);
      if (name !== undefined) (out ??= []).push(name);
    }
    prevCode = i;
  }
  return out;
}

/** `T name` or `T *name` just before offset `paren`: `name`, unless a keyword rules it out. */
function definitionBefore(text: string, paren: number, floor: number): string | undefined {
  let j = paren - 1;
  while (j >= floor && /\s/.test(text[j])) j--;
  const nameEnd = j + 1;
  while (j >= floor && /\w/.test(text[j])) j--;
  const name = text.slice(j + 1, nameEnd);
  if (!WHOLE_IDENT.test(name) || NOT_A_TYPE.has(name)) return undefined;
  while (j >= floor && /\s/.test(text[j])) j--;
  if (j < floor) return undefined;
  if (text[j] === '*') return name;
  if (!/\w/.test(text[j])) return undefined;
  const typeEnd = j + 1;
  while (j >= floor && /\w/.test(text[j])) j--;
  const type = text.slice(j + 1, typeEnd);
  if (!WHOLE_IDENT.test(type) || NOT_A_TYPE.has(type)) return undefined;
  return name;
}

/**
 * What a relevance filter decided, to be checked against what the lowering found: the graph's
 * items (sorted by start) and the identifiers named by the items it left out.
 */
export interface RelevanceOutcome {
  starts: number[];
  ends: number[];
  names: (string | undefined)[];
  alsoDefines: (string[] | undefined)[];
  /**
   * Whether a left-out item names `id`. The union of their identifiers is built on the first
   * question: only a function the graph did not know of asks (unaccountedFunction), and the left-out
   * items are most of a file's text.
   */
  mentionedByRemoved(id: string): boolean;
  /** Per item: the identifiers it names, and whether it was kept. */
  ids: ReadonlySet<string>[];
  kept: boolean[];
  /** The names the left-out items define (their own and alsoDefines). */
  removedNames: Set<string>;
}

export function relevanceOutcome(items: readonly (RelevanceItem & { start: number; end: number })[], removed: (i: number) => boolean): RelevanceOutcome {
  let removedIds: Set<string> | undefined;
  const out: RelevanceOutcome = {
    starts: [], ends: [], names: [], alsoDefines: [], ids: [], kept: [], removedNames: new Set(),
    mentionedByRemoved: (id) => {
      if (!removedIds) {
        removedIds = new Set();
        out.ids.forEach((ids, i) => { if (!out.kept[i]) for (const x of ids) removedIds!.add(x); });
      }
      return removedIds.has(id);
    },
  };
  items.forEach((it, i) => {
    out.starts.push(it.start);
    out.ends.push(it.end);
    out.names.push(it.name);
    out.alsoDefines.push(it.alsoDefines);
    out.ids.push(it.ids);
    out.kept.push(!removed(i));
    if (!removed(i)) return;
    if (it.name !== undefined) out.removedNames.add(it.name);
    for (const n of it.alsoDefines ?? []) out.removedNames.add(n);
  });
  return out;
}

/**
 * The first lowered function the graph did not know of and that a left-out item may matter to: a
 * function (at `start`) that lies in no item of that name (a definition nested in another
 * function that the scan did not recognise, a macro-made definition whose name is an argument,
 * `name(args) { ... }` that the grammar reads as a call and a block) while an item left out names
 * it, or while a kept item elsewhere names it and its own text names an item left out (fuzz seed
 * 83 #22302: such a function was the only link from a lock holder to the helper that copies; the
 * graph saw neither edge and left the helper out). The spreading could not connect them, so
 * leaving the item out may have changed a result: the caller analyses the whole text instead.
 * (A function nothing else names, a SYSCALL_DEFINE body, is reached by no seed through its name;
 * if it names a relevant API itself, its items are seeds and spread to their callees by name.)
 * Undefined when every function is accounted for. `text`: the text the functions' ranges index.
 */
export function unaccountedFunction(outcome: RelevanceOutcome, functions: readonly { name: string; range: { start: number; end: number } }[], text: string): string | undefined {
  // Every left-out item is a named function definition, and its name is among its identifiers:
  // with no name left out, no identifier is either.
  if (!outcome.removedNames.size) return undefined;
  const { starts, ends, names, alsoDefines } = outcome;
  const pending: { name: string; range: { start: number; end: number } }[] = [];
  for (const fn of functions) {
    // A function the recovery named after a keyword (`else if (x) {` left at file scope by a
    // stray `}`) has no callers: `if (...)` in any item is no call of it. Its own calls lie in
    // the kept text that holds it, so they were spread from like any other.
    if (KEYWORD_NAMES.has(fn.name)) continue;
    const at = fn.range.start;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= at) lo = mid + 1;
      else hi = mid;
    }
    const k = lo - 1;
    const known = k >= 0 && at < ends[k] && (names[k] === fn.name || alsoDefines[k]?.includes(fn.name) === true);
    if (known) continue;
    if (outcome.mentionedByRemoved(fn.name)) return fn.name;
    pending.push(fn);
  }
  if (!pending.length) return undefined;
  // The kept items naming each pending function, in one pass over the kept items' names (linear:
  // a file of thousands of macro-made functions must not cost functions x items).
  const wanted = new Set(pending.map((f) => f.name));
  const namers = new Map<string, number[]>();
  outcome.ids.forEach((ids, i) => {
    if (!outcome.kept[i]) return;
    for (const id of ids) {
      if (!wanted.has(id)) continue;
      const l = namers.get(id);
      if (l) l.push(i); else namers.set(id, [i]);
    }
  });
  for (const fn of pending) {
    // Items are in text order, so those overlapping the function are a run of the list: one
    // outside it is first or last.
    const l = namers.get(fn.name);
    const outside = (i: number): boolean => starts[i] >= fn.range.end || ends[i] <= fn.range.start;
    if (!l || !(outside(l[0]) || outside(l[l.length - 1]))) continue;
    for (const id of identifiersIn(text, fn.range.start, Math.min(fn.range.end, text.length))) if (outcome.removedNames.has(id)) return fn.name;
  }
  return undefined;
}
