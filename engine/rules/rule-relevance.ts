// Per-rule relevance for the batch path (issue 10). The relevant-name set of
// engine/rules/relevance.ts is one OR over all rules; most rules need a conjunction to report
// (a GUP rule an acquisition, fault-under-lock a fault-path lock AND a call that can fault...).
// Each rule states in its own file (Rule.relevance) what a file must name for it to be able to
// report, and which calls start its analysis of a function. Here, from one pass over the text:
//
// - the rules that can fire: the file names one of the rule's trigger entries and, for each of
//   its `needs` groups, one word of that group;
// - the relevant names: the union of the triggers of those rules (a guarded trigger only when
//   its word occurs too). Only functions that name one, and their same-file callers and callees
//   as each name's rules need them (Rule.relevance.callers / .callees / .reads, relevance-graph.ts
//   RelevantNames.spread and .interest), are parsed and lowered;
// - the rules to run: those that can fire (the others cannot report anything on this file).
//
// Why this cannot change a result: the rules and analyses see a call only through its callee's
// identifier in the text (there is no preprocessing; a same-file helper's calls are in the same
// text, and calls are looked up in the API table by their exact name). An API name is therefore
// matched as a whole identifier: an occurrence counts unless an ASCII identifier character
// ([A-Za-z0-9_$]) is glued to it on either side (a name inside a comment counts; a name inside
// `get_page_from_freelist` does not). The grammar's identifiers include more characters than
// these (non-ASCII letters), so this still marks every identifier the parser reads, and some
// more. The other words (struct fields, flags) are read by the analyses inside longer text too
// (`exprKey(...).includes('FOLL_WRITE')`), so they stay plain substrings. A rule whose condition
// fails therefore has no call of the kind it starts from, or lacks a kind it needs, anywhere in the file: it
// reports nothing, whoever runs it. A rule that can fire keeps every function its own triggers
// and spreading reach (what other rules keep in addition is there in the whole analysis too).
// test/engine/relevance.test.ts runs every fixture, each rule alone, with and without the
// shortcut; docs/DEVELOPING.md ("Speed over a tree") has the per-rule reasoning.

import type { ApiEntry } from '../kernel/api-schema';
import { initTables } from '../analysis/init-tables';
import { allApis, apiTableGeneration } from '../kernel/api-table';
import type { Rule } from './types';
import { CALLEES, CALLERS, REACHING, afterNumber, isAsciiIdentChar, type RelevantNames } from '../syntax/relevance-graph';
import { allRules } from './registry';
import { isRelevantApi } from './relevance';
import { mentionsAnnotation } from './annotations';
import { block3, wuManberTable } from '../syntax/wu-manber';

interface RulePlan {
  id: string;
  /** Indexes (into `words`) of the trigger names. */
  trigger: number[];
  /** Each group: indexes of its words. */
  needs: number[][];
  /** Guarded triggers: indexes of the names, and of the words one of which must occur too. */
  guarded: { names: number[]; words: number[] }[];
  triggerNames: string[];
  /** Spread flags of its triggers (Rule.relevance.callers, .callees, .reads). */
  spread: number;
  /** The API names its analyses read (Rule.relevance.reads), when its callees are narrowed to them. */
  reads?: string[];
  /** Indexes of the ops-table type words (Rule.relevance.tables). */
  tables: number[];
}

interface Plan {
  words: string[];
  rules: RulePlan[];
  /** Marks which words occur in a text (indexes into `words`). */
  find(text: string): Uint8Array;
  /** The table generation the plan was built from (rebuilt when the table changes). */
  generation: number;
}

let cached: Plan | undefined;

function triggerOf(r: Rule): (e: ApiEntry) => boolean {
  return r.relevance?.trigger ?? isRelevantApi;
}

function buildPlan(): Plan {
  const apis = allApis();
  const words: string[] = [];
  const index = new Map<string, number>();
  const idx = (w: string): number => {
    let i = index.get(w);
    if (i === undefined) { i = words.length; words.push(w); index.set(w, i); }
    return i;
  };
  // Words registered as anything but an API name (a field, a flag) are matched as substrings.
  const substring = new Set<number>();
  const idxWord = (w: string): number => {
    const i = idx(w);
    substring.add(i);
    return i;
  };
  const rules: RulePlan[] = allRules.map((r) => {
    const t = triggerOf(r);
    // A trigger must be relevant to the shared filter too (the CLI's byte prefilter and the
    // parse-note test use it): intersect, so the shortcut can only narrow.
    const triggerNames = apis.filter((e) => isRelevantApi(e) && t(e)).map((e) => e.name);
    const needs = (r.relevance?.needs ?? []).map((n) => {
      const ws = new Set<number>();
      if (n.api) for (const e of apis) if (n.api(e)) ws.add(idx(e.name));
      if (n.words) for (const w of n.words()) ws.add(idxWord(w));
      return [...ws];
    });
    const guarded = (r.relevance?.guardedTrigger ?? []).map((g) => ({
      names: apis.filter((e) => isRelevantApi(e) && g.api(e)).map((e) => idx(e.name)),
      words: g.words().map(idxWord),
    }));
    const narrowed = r.relevance?.callees !== false && r.relevance?.reads !== undefined;
    const callees = r.relevance?.callees === false ? 0 : narrowed ? REACHING : CALLEES;
    const tables = (r.relevance?.tables?.() ?? []).map(idxWord);
    return {
      id: r.meta.id, trigger: triggerNames.map(idx), needs, guarded, triggerNames, tables,
      spread: (r.relevance?.callers !== false ? CALLERS : 0) | callees,
      ...(narrowed ? { reads: [...apis.filter(r.relevance!.reads!.api).map((e) => e.name), ...(r.relevance!.reads!.words?.() ?? [])] } : {}),
    };
  });
  return { words, rules, find: wordFinder(words, words.map((_, i) => !substring.has(i))), generation: apiTableGeneration() };
}

function plan(): Plan {
  if (!cached || cached.generation !== apiTableGeneration()) cached = buildPlan();
  return cached;
}

export interface FileRelevance {
  /** Ids of the rules that can report on the text (among `selected`, all when undefined). */
  rules: string[];
  /**
   * API names whose calls make a function relevant: the triggers of those rules, with the way
   * relevance spreads from each (`spread`, engine/syntax/relevance-graph.ts).
   */
  relevantApis: Set<string> & RelevantNames;
}

/** Which rules can report on `text`, and the names that make its functions relevant to them. */
export function fileRelevance(text: string, selected?: readonly string[]): FileRelevance {
  const p = plan();
  const seen = p.find(text);
  const rules: string[] = [];
  const relevantApis = new Set<string>();
  const spread = new Map<string, number>();
  let interest: Set<string> | undefined;
  for (const r of p.rules) {
    if (selected && selected.length && !selected.includes(r.id)) continue;
    const guarded = r.guarded.filter((g) => g.words.some((i) => seen[i])).flatMap((g) => g.names.filter((i) => seen[i]));
    if (!r.trigger.some((i) => seen[i]) && !guarded.length) continue;
    if (!r.needs.every((g) => g.some((i) => seen[i]))) continue;
    rules.push(r.id);
    if (r.reads) { interest ??= new Set(); for (const n of r.reads) interest.add(n); }
    const add = (n: string): void => {
      relevantApis.add(n);
      spread.set(n, (spread.get(n) ?? 0) | r.spread);
    };
    r.trigger.forEach((i, k) => { if (seen[i]) add(r.triggerNames[k]); });
    for (const i of guarded) add(p.words[i]);
    // An ops table of such a type is a seed that needs its callees: the callbacks it names. The
    // rule reads the callbacks from the text (init-tables.ts), not from the parse, so they are
    // also needed by name: in a broken file the parse may leave the table's `.invalidate = f`
    // outside the item that names the type, and f would be left out while the rule reads it
    // (a fuzz input, #28458 of its run: a callback defined inside the table's braces).
    for (const i of r.tables) {
      if (!seen[i]) continue;
      relevantApis.add(p.words[i]);
      spread.set(p.words[i], CALLERS | CALLEES);
      for (const t of initTables(text).values()) {
        if (t.type !== p.words[i]) continue;
        for (const fn of t.fields.values()) { relevantApis.add(fn); spread.set(fn, (spread.get(fn) ?? 0) | CALLEES); }
      }
    }
  }
  const all = [...spread.values()].every((f) => f === (CALLERS | CALLEES));
  return { rules, relevantApis: all ? relevantApis : Object.assign(relevantApis, { spread, ...(interest ? { interest } : {}) }) };
}

/**
 * Whether `w` occurs at `start` of `text` as an identifier of its own: nothing glued after it, and
 * nothing before it but characters that cannot start the identifier it would be part of. A run of
 * identifier characters before it that starts with a digit is a number (`0x7fffffffget_page`:
 * the parser ends the number where the digits and suffix letters end, and the name is an
 * identifier of its own; fuzz seed 61 #6774), so it counts; so does one after a `'` or `.` that
 * follows a digit (a digit separator, a fraction).
 */
function wholeAt(text: string, w: string, start: number): boolean {
  if (start + w.length < text.length && isAsciiIdentChar(text.charCodeAt(start + w.length))) return false;
  let r = start;
  while (r > 0 && isAsciiIdentChar(text.charCodeAt(r - 1))) r--;
  // Nothing glued before it; or the run glued before it is (part of) a number: it starts with a
  // digit (then the name follows one), or follows one (afterNumber).
  return r === start || afterNumber(text, r + 1) || afterNumber(text, r);
}

/** Whether `w` occurs in `text` as a whole identifier (see wholeAt). */
function includesWhole(text: string, w: string): boolean {
  for (let i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) if (wholeAt(text, w, i)) return true;
  return false;
}

/**
 * Words shorter than this are looked for one by one (String.prototype.indexOf, native), so the
 * Wu-Manber window is as long as the shortest of the others: kmap and vmap (4 characters) and
 * vm_end (6) held the window, and so every shift, to 4 characters while the other 170 words have
 * 7 or more. Over the 100 MB of the 2,703 Linux 6.1 files that passed the byte prefilter then:
 * 470 ms with a window of 4 and two-character blocks, 257 ms so (3 indexOf passes included).
 */
const SHORT_WORD = 7;
const MAX_SHORT = 4;

/** Whether word `wi` occurs in a text (as a whole identifier where `whole[wi]` says so). */
function wordTest(words: readonly string[], whole: readonly boolean[]): (text: string, wi: number) => boolean {
  return (text, wi) => (whole[wi] ? includesWhole(text, words[wi]) : text.includes(words[wi]));
}

/** wordFinder's meaning, one search per word (its fallback, and the tests' reference). */
export function naiveWordFinder(words: string[], whole: boolean[]): (text: string) => Uint8Array {
  const each = wordTest(words, whole);
  return (text) => Uint8Array.from(words, (_, i) => (each(text, i) ? 1 : 0));
}

/**
 * A matcher that marks every word of `words` occurring in a text, as a whole identifier where
 * `whole[i]` says so and as a substring otherwise: Wu-Manber over three-character blocks
 * (engine/syntax/wu-manber.ts; it does not stop at the first match) for the long words, indexOf
 * for the few short ones. Words are ASCII; a text character above 0xff only shifts the window (it
 * is in no word).
 */
export function wordFinder(words: string[], whole: boolean[]): (text: string) => Uint8Array {
  const each = wordTest(words, whole);
  const short = words.map((_, i) => i).filter((i) => words[i].length < SHORT_WORD);
  const long = words.map((_, i) => i).filter((i) => words[i].length >= SHORT_WORD);
  const split = short.length <= MAX_SHORT && long.length > 0;
  const scanned = split ? long : words.map((_, i) => i);
  const m = Math.min(...scanned.map((i) => words[i].length));
  if (words.length === 0 || m < 3) return naiveWordFinder(words, whole);
  const { shift, cands } = wuManberTable(scanned.map((i) => Buffer.from(words[i], 'latin1')), m, 3);
  return (text: string): Uint8Array => {
    const seen = new Uint8Array(words.length);
    const n = text.length;
    let pos = m - 1;
    while (pos < n) {
      const a = text.charCodeAt(pos - 2);
      const b = text.charCodeAt(pos - 1);
      const c = text.charCodeAt(pos);
      if (a > 0xff || b > 0xff || c > 0xff) { pos += 1; continue; }
      const block = block3(a, b, c);
      const sh = shift[block];
      if (sh !== 0) { pos += sh; continue; }
      const start = pos - m + 1;
      for (const ci of cands[block]!) {
        const wi = scanned[ci];
        if (seen[wi]) continue;
        const w = words[wi];
        if (text.startsWith(w, start) && (!whole[wi] || wholeAt(text, w, start))) seen[wi] = 1;
      }
      pos++;
    }
    if (split) for (const wi of short) if (each(text, wi)) seen[wi] = 1;
    return seen;
  };
}

/** Every word the rules' conditions name (triggers, guards, needs, ops-table types): tests build texts from them. */
export function relevanceWords(): readonly string[] {
  return plan().words;
}

/**
 * Words of which a text must hold one for any rule to be able to fire, for the CLI's byte
 * prefilter (engine/cli/prefilter.ts). A rule fires only with one of its triggers and one word of
 * each of its `needs` groups (fileRelevance), so each of those sets alone is a set the text must
 * hit. The prefilter moves its window by at most its shortest word's length, so per rule the set
 * whose shortest word is longest is taken (the triggers on a tie): gup-vaddr-no-notifier gives
 * the GUP acquisitions it needs instead of its kmap and vmap triggers, fault-under-lock and
 * vma-modify-read-lock a needs group instead of triggers of 7 characters. On the 1.18 GB of
 * Linux 6.1: the window goes from 7 to 8 and kmap and vmap need no search of their own; the
 * prefilter takes 1.23 s instead of 1.78 s and passes 2,758 files instead of 2,703 (decoding
 * them and reading which rules can fire included: 1.55 s instead of 2.13 s). A text with none of
 * the words has no rule that can fire (textMayReport is false without an annotation; the
 * prefilter looks for the annotation marker too).
 */
export function prefilterWords(): string[] {
  const p = plan();
  const out = new Set<string>();
  const shortest = (set: number[]): number => Math.min(...set.map((i) => p.words[i].length));
  for (const r of p.rules) {
    let best = [...r.trigger, ...r.guarded.flatMap((g) => g.names)];
    if (!best.length) continue; // no trigger: the rule cannot fire
    for (const g of r.needs) if (g.length && shortest(g) > shortest(best)) best = g;
    for (const i of best) out.add(p.words[i]);
  }
  return [...out];
}

/**
 * Whether anything can be reported on `text` at all (by the rules `selected`, all by default):
 * it carries a `@faultline` annotation or some rule can fire on it. The CLI's byte prefilter
 * (engine/cli/prefilter.ts) and the batch path skip the other texts; the engine and the server
 * ask it before telling the user that a parse stopped early ("findings may be missing" is not
 * true of a text that cannot have any), so the three faces say the same about the same text.
 */
export function textMayReport(text: string, selected?: readonly string[]): boolean {
  return mentionsAnnotation(text) || fileRelevance(text, selected).rules.length > 0;
}
