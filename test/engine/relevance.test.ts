// The batch path's relevance filter (engine/rules/relevance.ts, engine/lower/relevance.ts) must
// never change a finding: every fixture and a generated bench corpus are analyzed with
// skipIrrelevant true and false and the findings compared whole. A new rule whose findings
// can appear in a function the filter skips makes this test fail (widen isRelevantApi).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../engine/engine';
import { allRules } from '../../engine/rules/registry';
import { isRelevantApi, relevantApiNames } from '../../engine/rules/relevance';
import { fileRelevance, textMayReport } from '../../engine/rules/rule-relevance';
import type { Finding } from '../../engine/findings';
import { allApis } from '../../engine/kernel/api-table';
import { generateCorpus, generateLargeFile, rng } from '../../bench/generate-corpus';
import { fixtureFiles, repoRoot } from '../helpers/repo';
import { loadCParser } from '../../engine/syntax/parser';
import { skippableFunctions } from '../../engine/lower/relevance';
import { blankIrrelevant } from '../../engine/syntax/blank-irrelevant';
import type { RelevanceOutcome } from '../../engine/syntax/relevance-graph';



let enginePromise: Promise<Engine> | undefined;
const engine = (): Promise<Engine> => (enginePromise ??= createEngine());

interface Compared { findings: number; full: number; kept: number }

function compare(e: Engine, path: string, text: string): Compared {
  const full = e.analyzeC(text, { path });
  const fast = e.analyzeC(text, { path, skipIrrelevant: true });
  full.tree?.delete();
  fast.tree?.delete();
  const pick = (r: typeof full) => r.findings.map((f) => ({ rule: f.rule, range: f.range, message: f.message, related: f.related, function: f.function, severity: f.severity }));
  assert.deepEqual(pick(fast), pick(full), `${path}: findings differ with skipIrrelevant`);
  return { findings: full.findings.length, full: full.file?.functions.length ?? 0, kept: fast.file?.functions.length ?? 0 };
}

/** The functions the batch path keeps (parses and lowers) in `text`, sorted; `rules`: only those rules. */
function keptFunctionNames(e: Engine, text: string, rules?: string[]): string[] {
  const r = e.analyzeC(text, { path: 'x.c', ...(rules ? { rules } : {}), skipIrrelevant: true });
  r.tree?.delete();
  return (r.file?.functions ?? []).map((f) => f.name).sort();
}

test('relevance: the relevant API set comes from the table and is not empty', () => {
  const names = relevantApiNames();
  assert.ok(names.size > 0);
  for (const e of allApis()) assert.equal(names.has(e.name), isRelevantApi(e), e.name);
  // Every rule is exercised by the fixture comparison below: each has at least one fixture finding.
  assert.ok(allRules.length > 0);
});

test('relevance: every fixture gives the same findings with and without skipIrrelevant', async () => {
  const e = await engine();
  const files = fixtureFiles(join(repoRoot(), 'test', 'fixtures'));
  assert.ok(files.length > 10);
  const rulesSeen = new Set<string>();
  // Fixture functions all call something relevant; appending generated driver code (most of it
  // irrelevant) makes the filter actually skip functions in every file.
  const noise = generateLargeFile(300, 3);
  let skipped = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    compare(e, f, text);
    const mixed = compare(e, f, `${text}\n${noise}`);
    skipped += mixed.full - mixed.kept;
    for (const x of e.analyzeC(text, { path: f, skipIrrelevant: true }).findings) rulesSeen.add(x.rule);
  }
  assert.ok(skipped > 0, 'nothing was skipped in the fixtures with generated code appended');
  // The comparison only proves something for rules that actually report on some fixture.
  for (const r of allRules) assert.ok(rulesSeen.has(r.meta.id), `no fixture reports ${r.meta.id}: the equivalence check does not cover it`);
});

test('relevance: the bench corpus gives the same findings, and the filter does skip functions', async () => {
  const e = await engine();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-relevance-'));
  try {
    const corpus = generateCorpus(dir, 60);
    let findings = 0, full = 0, kept = 0;
    for (const f of corpus.files) {
      const c = compare(e, f, readFileSync(f, 'utf8'));
      findings += c.findings; full += c.full; kept += c.kept;
    }
    assert.ok(findings > 0, 'the corpus should have findings to compare');
    assert.ok(kept < full, `nothing skipped (${kept}/${full} functions lowered)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The spreading tests below use a lock the fault path takes (fault-under-lock: its callers and
// callees are needed); a file-level companion (a call that can fault) lets the rule fire.
const faultLockApi = (): string => allApis().find((a) => a.faultLock && a.lock?.op === 'acquire' && !a.removed)!.name;
const faultingApi = (): string => allApis().find((a) => a.uaccess && !a.uaccess.nofault && !a.removed)!.name;

test('relevance: a caller of a locking helper and the helper\'s other callees are kept', async () => {
  const e = await engine();
  const relevant = faultLockApi();
  const text = [
    // note() faults (fault-under-lock keeps only the callees that reach an entry it reads).
    `static void note(int x) { char c; ${faultingApi()}(&c, (const void __user *)x, 1); }`,
    `static long grab(unsigned long a, struct page **p) { return ${relevant}(p); }`,
    'static int user(unsigned long a) { struct page *p; note(1); return grab(a, &p) > 0; }',
    'static int lonely(int a) { return a + 1; }',
    `static int copier(void *d, const void *s) { return ${faultingApi()}(d, s, 1); }`,
    '',
  ].join('\n');
  const names = keptFunctionNames(e, text);
  assert.deepEqual(names, ['grab', 'note', 'user']);
});

test('relevance: spreads to callers and callees only; a table naming functions keeps none of them', async () => {
  const e = await engine();
  const text = [
    // helper() and callee_of_caller() fault: fault-under-lock keeps only the callees that reach
    // an entry it reads, and what is tested here is the direction of the spreading.
    `static int helper(int x) { char c; return x + ${faultingApi()}(&c, (const void __user *)x, 1); }`,
    `static int pinner(unsigned long a, struct page **p) { return helper(${faultLockApi()}(p)); }`,
    `static int callee_of_caller(unsigned long a) { char c; return ${faultingApi()}(&c, (const void __user *)a, 1); }`,
    'static int caller(unsigned long a) { struct page *p; return pinner(a, &p) + callee_of_caller(a); }',
    'static int other_user_of_helper(int y) { return helper(y); }',
    'static int only_in_table(int y) { return y; }',
    'static const struct frob_ops ops = { .grab = pinner, .other = other_user_of_helper, .more = only_in_table };',
    'EXPORT_SYMBOL(only_in_table);',
    `static int copier(void *d, const void *s) { return ${faultingApi()}(d, s, 1); }`,
    '',
  ].join('\n');
  const names = keptFunctionNames(e, text);
  assert.deepEqual(names, ['callee_of_caller', 'caller', 'helper', 'pinner']);
});

test('relevance: per-rule spreading: a GUP acquisition keeps its callees, not its callers; a GUP kernel mapping neither', async () => {
  const e = await engine();
  const acquire = allApis().find((a) => a.refs?.op === 'acquire' && !a.refs.single && !a.removed)!.name;
  const gup = [
    'static int helper(int x) { return x + 1; }',
    `static int pinner(unsigned long a, struct page **p) { return helper(${acquire}(a, 1, 0, p)); }`,
    'static int caller(unsigned long a) { struct page *p; return pinner(a, &p); }',
    '',
  ].join('\n');
  assert.deepEqual(keptFunctionNames(e, gup), ['helper', 'pinner']);
  // A kernel mapping of GUP'd pages (gup-vaddr-no-notifier) reads no helper: neither way.
  const kmapping = allApis().find((a) => a.kmapping && a.kmapping.kind !== 'kmap-local' && !a.removed)!.name;
  const map = [
    `static int taker(unsigned long a, struct page **p) { return ${acquire}(a, 1, 0, p); }`,
    'static void *helper(void *x) { return x; }',
    `static void *mapper(struct page *p) { return helper(${kmapping}(p)); }`,
    'static void *caller(struct page *p) { return mapper(p); }',
    '',
  ].join('\n');
  assert.deepEqual(keptFunctionNames(e, map), ['mapper', 'taker']);
});

test('relevance: a page-fault toggle keeps its callers, and of its callees only those that reach a toggle', async () => {
  const e = await engine();
  const plain = (op: string): string => allApis().find((a) => a.pagefault === op && !a.pagefaultHandle && !a.removed)!.name;
  const text = [
    'static int quiet(int x) { return x + 1; }',
    'static int quieter(int x) { return quiet(x) * 2; }',
    `static void enter(void) { ${plain('disable')}(); }`,
    `static void leave(void) { ${plain('enable')}(); }`,
    'static int user(int x) { enter(); x = quieter(x); leave(); return x; }',
    'static int caller(int x) { return user(x) + quiet(x); }',
    '',
  ].join('\n');
  // quiet() and quieter() reach no toggle: absent, a call to them reads as a present balanced one.
  assert.deepEqual(keptFunctionNames(e, text, ['pagefault-disable-unbalanced']), ['caller', 'enter', 'leave', 'user']);
});

test('relevance: fault-under-lock keeps the callees that reach an entry it reads, however deep, and no other', async () => {
  const e = await engine();
  const lock = allApis().find((a) => a.faultLock && a.lock?.op === 'acquire' && !a.removed)!;
  const unlock = allApis().find((a) => a.lock?.op === 'release' && a.lock.lock === lock.lock!.lock && !a.removed)!.name;
  const text = [
    'static int tally(int x) { return x * 3; }',
    'static int scaled(int x) { return tally(x) + 1; }',
    `static int fetch(void *d, const void __user *s) { return ${faultingApi()}(d, s, 4); }`,
    'static int fetch_twice(void *d, const void __user *s) { return fetch(d, s) + fetch(d, s); }',
    `static int locked_read(struct gadget *g, void *d, const void __user *s) { int r; ${lock.name}(&g->lk); r = fetch_twice(d, s) + scaled(1); ${unlock}(&g->lk); return r; }`,
    '',
  ].join('\n');
  // fetch() is no trigger: it is kept because it faults, two levels below the lock; tally() and
  // scaled() reach nothing the rule reads.
  assert.deepEqual(keptFunctionNames(e, text, ['fault-under-lock']), ['fetch', 'fetch_twice', 'locked_read']);
});

test('relevance: vma-modify-read-lock keeps the callees that reach a lock call or a VMA field write, and no other', async () => {
  const e = await engine();
  const mm = (op: string, mode: string): string => allApis().find((a) => a.lock?.lock === 'mmap_lock' && a.lock.op === op && a.lock.mode === mode && !a.removed)!.name;
  const text = [
    'static int pages_of(unsigned long len) { return len >> 12; }',
    'static void set_io(struct vm_area_struct *vma) { vma->vm_flags |= 0x4000; }',
    'static void mark(struct vm_area_struct *vma) { set_io(vma); }',
    `static int touch(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long len) { int n; ${mm('acquire', 'read')}(mm); n = pages_of(len); mark(vma); ${mm('release', 'read')}(mm); return n; }`,
    '',
  ].join('\n');
  assert.deepEqual(keptFunctionNames(e, text, ['vma-modify-read-lock']), ['mark', 'set_io', 'touch']);
});

// Per-rule relevance (engine/rules/rule-relevance.ts): each fixture, each rule alone, gives the
// same findings with the shortcut (the rule runs only where its file condition holds, on the
// functions its triggers keep) as the whole analysis without it.
test('relevance: per rule, every fixture gives the same findings with and without the shortcut', async () => {
  const e = await engine();
  const files = fixtureFiles(join(repoRoot(), 'test', 'fixtures'));
  const noise = generateLargeFile(300, 3);
  const pick = (fs: Finding[]) => fs.map((f) => ({ rule: f.rule, range: f.range, message: f.message, related: f.related, function: f.function, severity: f.severity }));
  const fired = new Map<string, number>();
  let skippedRules = 0;
  for (const f of files) {
    for (const text of [readFileSync(f, 'utf8'), `${readFileSync(f, 'utf8')}\n${noise}`]) {
      const can = new Set(fileRelevance(text).rules);
      const all = e.analyzeC(text, { path: f });
      all.tree?.delete();
      for (const r of allRules) {
        const id = r.meta.id;
        if (!can.has(id)) {
          // Ruled out by its file condition: the whole analysis has no finding of it either.
          skippedRules++;
          assert.equal(all.findings.filter((x) => x.rule === id).length, 0, `${f}: ${id} reports where its relevance says it cannot`);
          continue;
        }
        fired.set(id, (fired.get(id) ?? 0) + 1);
        const full = e.analyzeC(text, { path: f, rules: [id] });
        const fast = e.analyzeC(text, { path: f, rules: [id], skipIrrelevant: true });
        full.tree?.delete();
        fast.tree?.delete();
        assert.deepEqual(pick(fast.findings), pick(full.findings), `${f}: ${id} differs with the per-rule shortcut`);
      }
    }
  }
  assert.ok(skippedRules > 0, 'no rule was ever ruled out by its file condition');
  for (const r of allRules) assert.ok(fired.get(r.meta.id), `${r.meta.id} never fires on the fixtures`);
});

test('relevance: a rule needs its whole conjunction; triggers stay inside the shared relevant set', () => {
  const acquire = allApis().find((a) => a.refs?.op === 'acquire' && !a.removed)!.name;
  const release = allApis().find((a) => a.refs?.op === 'release' && !a.removed)!.name;
  const gup = allRules.filter((r) => r.meta.id.startsWith('gup-')).map((r) => r.meta.id);
  assert.ok(gup.length >= 4);
  // A release alone cannot start any GUP rule's event; with an acquisition every GUP rule can fire.
  const releaseOnly = fileRelevance(`void f(struct page *p) { ${release}(p); }`);
  for (const id of gup) assert.ok(!releaseOnly.rules.includes(id), id);
  const both = fileRelevance(`void f(unsigned long a, struct page **p) { ${acquire}(a, 1, 0, p); ${release}(p[0]); }`);
  // gup-dirty-unlocked needs a dirtying call or a per-transfer write flag as well.
  for (const id of gup) assert.equal(both.rules.includes(id), id !== 'gup-dirty-unlocked', id);
  const dirty = allApis().find((a) => a.mem?.op === 'set-page-dirty' && !a.removed)!.name;
  assert.ok(fileRelevance(`void f(unsigned long a, struct page **p) { ${acquire}(a, 1, 0, p); ${dirty}(p[0]); }`).rules.includes('gup-dirty-unlocked'));
  // Only the acquisition starts a GUP rule's analysis (the release is read in it, or in a callee).
  assert.ok(both.relevantApis.has(acquire) && !both.relevantApis.has(release));
  // Nothing relevant at all: no rule, and textMayReport agrees.
  assert.deepEqual(fileRelevance('int f(void) { return 0; }').rules, []);
  assert.equal(textMayReport('int f(void) { return 0; }'), false);
  assert.equal(textMayReport('/* @faultline expect gup-leak */'), true);
  // A rule selection narrows the answer.
  const one = gup.find((id) => id !== 'gup-dirty-unlocked')!;
  assert.deepEqual(fileRelevance(`void f(unsigned long a, struct page **p) { ${acquire}(a, 1, 0, p); }`, [one]).rules, [one]);
  // Every rule's triggers are names of the shared set (the CLI's byte prefilter looks for those).
  const shared = relevantApiNames();
  const all = allApis().map((a) => a.name).join(' ');
  for (const n of fileRelevance(all).relevantApis) assert.ok(shared.has(n), n);
});

test('relevance: an API name counts as a whole identifier; fields and flags as substrings', () => {
  const acquire = allApis().find((a) => a.refs?.op === 'acquire' && !a.removed)!.name;
  const gupLeak = (text: string): boolean => fileRelevance(text).rules.includes('gup-leak');
  const call = (name: string): string => `void f(unsigned long a, struct page **p) { ${name}(a, 1, 0, p); }`;
  assert.ok(gupLeak(call(acquire)));
  // Glued to an ASCII identifier character on either side, it is another identifier.
  for (const glued of [`${acquire}_from_cache`, `my_${acquire}`, `${acquire}2`, `$${acquire}`, `${acquire}$`]) {
    assert.ok(!gupLeak(call(glued)), glued);
  }
  // Anything else around it leaves the name whole, as the parser reads it or more: a comment,
  // a macro argument, the start or end of the text, a non-ASCII letter (the grammar glues
  // those too: counting the name is the safe side).
  // After a number the parser ends the number and starts the name (`0x7fffffffget_...`), so a run
  // of identifier characters that starts with a digit does not glue (nor does `1.5` or `1'0`).
  for (const text of [`/* ${acquire} */`, `#define X(a) ${acquire}(a)`, acquire, `${acquire}é(a);`, `x=${acquire};`, `x=0x7fffffff${acquire}(a);`, `x=1UL${acquire}(a);`, `x=1.5e${acquire}(a);`]) {
    assert.ok(gupLeak(text), text);
  }
  // A per-transfer write flag is read inside longer expressions (exprKey(...).includes): it stays a
  // substring, so gup-dirty-unlocked still can fire on a file that only names MY_FOLL_WRITE_FLAGS.
  const dirtyNeeds = `${call(acquire)} int g = MY_FOLL_WRITE_FLAGS;`;
  assert.ok(fileRelevance(dirtyNeeds).rules.includes('gup-dirty-unlocked'));
});

test('relevance: the tree filter names every file-scope function, in a long file and under #ifdef, and skips the unrelated ones', async () => {
  // The filter that runs on the parsed tree (after a blanked parse fell back to the whole text).
  // Function names once came from the node's text, which re-asks the parse's input callback and
  // gets '' once its re-read budget is spent: in a long file most functions lost their names and
  // were kept with all they name. Functions under #ifdef / #else were kept whole, too.
  const parser = await loadCParser();
  const acquire = allApis().find((a) => a.refs?.op === 'acquire' && !a.removed)!.name;
  const parts: string[] = [];
  let quiet = 0;
  for (let i = 0; i < 400; i++) {
    const fn = (name: string): string => `static int ${name}(struct quiet_dev *qd, int v)\n{\n\tint acc = v + qd->regs[${i % 7}] * ${i};\n\treturn acc > qd->limit ? qd->limit : acc;\n}\n\n`;
    if (i % 10 === 5) { parts.push(`#ifdef CONFIG_QUIET_${i}\n${fn(`quiet_helper_${i}`)}#else\n${fn(`quiet_alt_${i}`)}#endif\n\n`); quiet += 2; }
    else { parts.push(fn(`quiet_helper_${i}`)); quiet++; }
  }
  parts.push(`static long pin_buffer(unsigned long start, int n, struct page **pages)\n{\n\treturn ${acquire}(start, n, 0, pages);\n}\n`);
  const text = parts.join('');
  const tree = parser.parse(text);
  try {
    const skip = skippableFunctions(tree, text, new Set([acquire]));
    assert.equal(skip.size, quiet, `every unrelated function is skipped (${text.length} characters)`);
    assert.ok(!skip.has(text.indexOf('static long pin_buffer')), 'the function that names the API is kept');
  } finally {
    tree.delete();
  }
});

test('relevance: the tree filter reads the text scan\'s identifiers where its items are the scan\'s code, and decides as without them', async () => {
  // The scan records each item's identifiers from its first character of code (after white
  // space and comments) and, when only white space precedes it, its nested definitions; the
  // tree filter takes them for a node of the same extent. Items whose comments hold words, a
  // `(`, a `//` line ending right before a macro-made definition, a number glued to a name, or a
  // declaration the tree ends before the scan does must decide exactly as when the filter reads
  // everything itself.
  const parser = await loadCParser();
  const acquire = allApis().find((a) => a.refs?.op === 'acquire' && !a.removed)!.name;
  const pieces = [
    '/* helper( for the pin path { */\nstatic int cfgmemo_a(int v)\n{\n\treturn v + 1;\n}\n',
    '// see cfgmemo_pin\nCFGMEMO_DEFINE1(cfgmemo_b, int, v)\n{\n\treturn cfgmemo_a(v);\n}\n',
    `\n\nstatic long cfgmemo_pin(unsigned long s, struct page **p)\n{\n\treturn ${acquire}(s, 1, 0, p) + 0x10cfgmemo_c(1);\n}\n`,
    'static int cfgmemo_c(int v)\n{\n\tint inner(int x) { return x; }\n\treturn inner(v);\n}\n',
    '/* cfgmemo_d */ static int cfgmemo_d(int v) { return v; }\n',
    'static const struct cfgmemo_ops cfgmemo_ops = { .get = cfgmemo_d, };\n',
    // No `;`: the scan's item runs on into the next one, the tree's declaration does not.
    'static int cfgmemo_bad = cfgmemo_init(1)\n',
  ];
  const r = rng(7);
  const texts = Array.from({ length: 40 }, () => Array.from({ length: 8 }, () => pieces[Math.floor(r() * pieces.length)]).join('\n') + pieces[2]);
  // And every fixture: other names, other layouts.
  for (const f of fixtureFiles().filter((x) => x.endsWith('.c'))) texts.push(readFileSync(f, 'utf8'));
  let remembered = 0;
  for (const text of texts) {
    const apis = new Set([acquire, ...relevantApiNames()]);
    const scan = blankIrrelevant(text, apis);
    if (!scan.codeIds) continue; // the scan gave up on this text: the filter reads everything
    remembered++;
    const tree = parser.parse(text);
    try {
      const seen: RelevanceOutcome[] = [];
      const fresh: RelevanceOutcome[] = [];
      const a = skippableFunctions(tree, text, apis, undefined, (o) => seen.push(o), scan.codeIds);
      const b = skippableFunctions(tree, text, apis, undefined, (o) => fresh.push(o));
      assert.deepEqual([...a], [...b], text);
      assert.deepEqual(seen.map((o) => [o.kept, o.ids.map((s) => [...s]), o.alsoDefines]), fresh.map((o) => [o.kept, o.ids.map((s) => [...s]), o.alsoDefines]), text);
    } finally {
      tree.delete();
    }
  }
  assert.ok(remembered > 100, `texts the scan recorded: ${remembered}`);
});
