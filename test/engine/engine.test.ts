import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, inputKindOf, sortAndDedupe, type Engine } from '../../engine/engine';
import type { Finding } from '../../engine/findings';
import { parsePatchSet } from '../../engine/patch/parse';
import { postImageFragments } from '../../engine/patch/fragments';

let enginePromise: Promise<Engine> | undefined;
const engine = () => (enginePromise ??= createEngine());

// Hand-written kernel-style code: two functions, one with a leak on an early return, one clean.
const FILE = [
  'struct frob { struct page **pages; int nr; bool ready; };',
  '',
  'static int frob_clean(unsigned long uaddr, struct page **pages, int nr)',
  '{',
  '\tlong got = pin_user_pages_fast(uaddr, nr, 0, pages);',
  '',
  '\tif (got <= 0)',
  '\t\treturn got ? got : -EFAULT;',
  '\tunpin_user_pages(pages, got);',
  '\treturn 0;',
  '}',
  '',
  'static int frob_leaky(struct frob *f, unsigned long uaddr, struct page **pages, int nr)',
  '{',
  '\tlong got = pin_user_pages_fast(uaddr, nr, 0, pages);',
  '',
  '\tif (got <= 0)',
  '\t\treturn got ? got : -EFAULT;',
  '\tif (!f->ready)',
  '\t\treturn -EAGAIN;',
  '\tunpin_user_pages(pages, got);',
  '\treturn 0;',
  '}',
  '',
];

function newFilePatch(lines: string[], path = 'drivers/misc/frob.c'): string {
  return [
    `diff --git a/${path} b/${path}`,
    'new file mode 100644',
    'index 0000000..1234567',
    '--- /dev/null',
    `+++ b/${path}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map((l) => '+' + l),
    '',
  ].join('\n');
}

test('dispatch: extension first, then sniffing', () => {
  assert.equal(inputKindOf('a.c', 'diff --git a/x b/x'), 'c');
  assert.equal(inputKindOf('a.h', ''), 'c');
  assert.equal(inputKindOf('x.patch', 'int x;'), 'patch');
  assert.equal(inputKindOf('x.mbox', ''), 'patch');
  assert.equal(inputKindOf('x.eml', ''), 'patch');
  assert.equal(inputKindOf('v2_20250101_dev_foo.mbx', ''), 'patch');
  assert.equal(inputKindOf('x.diff', ''), 'patch');
  assert.equal(inputKindOf('', 'From 123 Mon Sep 17 00:00:00 2001\nFrom: a\n'), 'patch');
  assert.equal(inputKindOf('', '--- a/x.c\n+++ b/x.c\n'), 'patch');
  assert.equal(inputKindOf('', 'int main(void) { return 0; }\n'), 'c');
  assert.equal(inputKindOf('file:///tmp/x.patch?version=2', ''), 'patch');
});

test('analyzeC: findings in the leaky function only, sorted, with tree and IR', async () => {
  const e = await engine();
  const text = FILE.join('\n');
  const r = e.analyzeC(text, { path: 'frob.c' });
  assert.equal(r.kind, 'c');
  assert.ok(r.tree && r.file);
  assert.deepEqual(r.file!.functions.map((f) => f.name), ['frob_clean', 'frob_leaky']);
  assert.ok(r.findings.length >= 1, 'the early return leaks');
  assert.ok(r.findings.every((f) => f.function === 'frob_leaky'), JSON.stringify(r.findings.map((f) => f.function)));
  assert.ok(r.findings.some((f) => f.rule === 'gup-leak'));
  for (let i = 1; i < r.findings.length; i++) assert.ok(r.findings[i - 1].range.start <= r.findings[i].range.start);
  // same text via analyze() and a .c path: same findings
  assert.deepEqual(e.analyze(text, { path: 'x/frob.c' }).findings, r.findings);
  // rule selection
  assert.equal(e.analyzeC(text, { path: 'frob.c', rules: ['gup-double-release'] }).findings.filter((f) => f.rule === 'gup-leak').length, 0);
  r.tree!.delete();
});

test('a patch adding the whole file reports the same findings, moved to the patch rows', async () => {
  const e = await engine();
  const text = FILE.join('\n');
  const direct = e.analyzeC(text, { path: 'frob.c' }).findings;
  const patch = newFilePatch(FILE);
  const viaPatch = e.analyze(patch, { path: 'series.patch' });
  assert.equal(viaPatch.kind, 'patch');
  assert.deepEqual(viaPatch.problems, []);
  assert.equal(viaPatch.findings.length, direct.length);
  const HEADER_ROWS = 6;
  viaPatch.findings.forEach((f, i) => {
    const d = direct[i];
    assert.equal(f.rule, d.rule);
    assert.equal(f.range.startRow, d.range.startRow + HEADER_ROWS);
    assert.equal(f.range.startCol, d.range.startCol + 1, 'one column for the + prefix');
    assert.equal(patch.slice(f.range.start, f.range.end), text.slice(d.range.start, d.range.end));
    assert.equal(viaPatch.targets![i].line, d.range.startRow + 1);
    assert.equal(viaPatch.targets![i].path, 'drivers/misc/frob.c');
    f.related.forEach((r, k) => assert.equal(r.range.startRow, d.related[k].range.startRow + HEADER_ROWS));
  });
});

test('patch policy: a bug in a function the patch does not touch is not reported; one the patch adds is', async () => {
  const e = await engine();
  // The leaky function exists before the patch; the patch only edits the clean one.
  const start = FILE.indexOf('static int frob_clean(unsigned long uaddr, struct page **pages, int nr)');
  const ctx = FILE.slice(start, start + 10);
  const lines = ctx.map((l) => ' ' + l);
  const at = lines.findIndex((l) => l.includes('unpin_user_pages'));
  const edited = [...lines.slice(0, at), '+\t/* drop the pins before returning */', ...lines.slice(at)];
  const untouched = [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    `@@ -3,10 +3,11 @@ struct frob { struct page **pages; int nr; bool ready; };`,
    ...edited,
    ...FILE.slice(11, 23).map((l) => ' ' + l),
  ];
  // fix the header counts for the extra context
  const n = 10 + 12;
  untouched[2] = `@@ -3,${n} +3,${n + 1} @@ struct frob { struct page **pages; int nr; bool ready; };`;
  const r = e.analyzePatch(untouched.join('\n') + '\n', { path: 'x.patch' });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.findings, [], 'frob_leaky has no added line');
  // now the patch adds the early return that leaks
  const leak = untouched.map((l) => (l === ' \tif (!f->ready)' || l === ' \t\treturn -EAGAIN;' ? '+' + l.slice(1) : l));
  leak[2] = `@@ -3,${n - 2} +3,${n + 1} @@ struct frob { struct page **pages; int nr; bool ready; };`;
  const r2 = e.analyzePatch(leak.join('\n') + '\n', { path: 'x.patch' });
  assert.deepEqual(r2.problems, []);
  assert.ok(r2.findings.some((f) => f.rule === 'gup-leak' && f.function === 'frob_leaky'), JSON.stringify(r2.findings));
});

test('a hunk inside a function body (head only in the hunk section) is analyzed', async () => {
  const e = await engine();
  const patch = [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    '@@ -14,8 +14,10 @@ static int frob_leaky(struct frob *f, unsigned long uaddr, struct page **pages, int nr)',
    ' \tlong got = pin_user_pages_fast(uaddr, nr, 0, pages);',
    ' ',
    ' \tif (got <= 0)',
    ' \t\treturn got ? got : -EFAULT;',
    '+\tif (!f->ready)',
    '+\t\treturn -EAGAIN;',
    ' \tunpin_user_pages(pages, got);',
    ' \treturn 0;',
    ' }',
    ' ',
    '',
  ].join('\n');
  const r = e.analyzePatch(patch, { path: 'p.diff' });
  assert.deepEqual(r.problems, []);
  const leak = r.findings.find((f) => f.rule === 'gup-leak');
  assert.ok(leak, JSON.stringify(r.findings));
  const rows = patch.split('\n');
  assert.ok(rows[leak!.range.startRow].startsWith('+') || leak!.related.some((x) => rows[x.range.startRow].startsWith('+')));
  // The message cites the lines of the text it is shown on (the patch): the same numbers as the
  // finding's own location; the target (the patched file) carries the file's numbers.
  assert.equal(leak!.range.startRow + 1, 9);
  assert.equal(leak!.message, 'Pages pinned by pin_user_pages_fast() into `pages` at line 4 are not released when the function returns -EAGAIN at line 9 (!f->ready branch at line 8)');
  const target = r.targets![r.findings.indexOf(leak!)];
  assert.equal(target.line, 19);
  assert.equal(target.message, 'Pages pinned by pin_user_pages_fast() into `pages` at line 14 are not released when the function returns -EAGAIN at line 19 (!f->ready branch at line 18)');
  // kernel style with the return type on the line above: git's section is just `name(...)`
  const bare = patch.replace('@@ static int frob_leaky(', '@@ frob_leaky(');
  assert.notEqual(bare, patch);
  const r2 = e.analyzePatch(bare, { path: 'p.diff' });
  assert.ok(r2.findings.some((f) => f.rule === 'gup-leak' && f.function === 'frob_leaky'), JSON.stringify(r2.findings));
});

test('bad input never throws: binary-ish text, junk patches, unbalanced braces', async () => {
  const e = await engine();
  for (const t of ['', '\u0000\u0001\u0002', '}}}}{{{{', 'static int f(void) { if (', '@@ -1 +1 @@\n+}\n', 'diff --git a/x.c b/x.c\n@@ -1,3 +1,3 @@\n+int x(\n']) {
    assert.doesNotThrow(() => e.analyze(t, { path: 'x.c' }));
    assert.doesNotThrow(() => e.analyze(t, { path: 'x.patch' }));
  }
});

test('sortAndDedupe sorts by position and drops exact duplicates, keeping targets parallel', () => {
  const r = (start: number) => ({ start, end: start + 1, startRow: start, startCol: 0, endRow: start, endCol: 1 });
  const f = (rule: string, start: number): Finding => ({ rule, severity: 'error', message: 'm', range: r(start), function: 'f', related: [] });
  const targets = [1, 2, 3, 4].map((line) => ({ path: 'x.c', line, column: 1, patchIndex: 1 }));
  const out = sortAndDedupe([f('b', 5), f('a', 1), f('b', 5), f('a', 5)], targets);
  assert.deepEqual(out.findings.map((x) => `${x.rule}@${x.range.start}`), ['a@1', 'a@5', 'b@5']);
  assert.deepEqual(out.targets!.map((t) => t.line), [2, 4, 1]);
});

test('cancellation is honoured: an already-cancelled analysis returns quickly without throwing', async () => {
  const e = await engine();
  const big = Array.from({ length: 200 }, (_, i) => FILE.join('\n').replace(/frob_(clean|leaky)/g, `frob_$1_${i}`)).join('\n');
  const t0 = Date.now();
  const r = e.analyzeC(big, { path: 'big.c', cancelled: () => true });
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(Array.isArray(r.findings));
  r.tree?.delete();
});

test('lines hidden between two hunks of one function may release: no leak invented across the gap', async () => {
  const e = await engine();
  const hunks = (middle: string[]) => [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    '@@ -10,4 +10,5 @@ static int frob_long(struct frob *f, unsigned long uaddr, int nr)',
    ' \tstruct page *pages[16];',
    ' \tlong got;',
    '+\tgot = pin_user_pages_fast(uaddr, nr, 0, pages);',
    ' \tif (got <= 0)',
    ' \t\treturn -EFAULT;',
    ...middle,
    '@@ -80,4 +81,5 @@ static int frob_long(struct frob *f, unsigned long uaddr, int nr)',
    ' \tf->done = 1;',
    '+\tf->count++;',
    ' ',
    ' \treturn 0;',
    ' }',
    '',
  ].join('\n');
  const r = e.analyzePatch(hunks([]), { path: 'p.patch' });
  assert.deepEqual(r.problems, []);
  // the stand-in for the unseen lines is what keeps it quiet: without it, the joined hunks leak
  const frag = postImageFragments(parsePatchSet(hunks([])))[0];
  const gap = frag.lines.find((l) => l.kind === 'gap')!;
  assert.match(gap.text, /^__faultline_unseen_lines\(.*&pages.*\);$/);
  assert.ok(e.analyzeC(frag.text.replace(gap.text, ''), { path: 'x.c' }).findings.some((f) => f.rule === 'gup-leak'));
  assert.deepEqual(r.findings.filter((f) => f.rule === 'gup-leak'), [], 'the unpin may sit in the 60 unseen lines');
  // a leak that is entirely visible inside one hunk is still reported
  const visible = hunks([]).replace(' \t\treturn -EFAULT;\n', ' \t\treturn -EFAULT;\n+\tif (!f->ready)\n+\t\treturn -EAGAIN;\n').replace('@@ -10,4 +10,5 @@', '@@ -10,4 +10,7 @@').replace('@@ -80,4 +81,5 @@', '@@ -80,4 +83,5 @@');
  const r2 = e.analyzePatch(visible, { path: 'p.patch' });
  assert.deepEqual(r2.problems, []);
  assert.ok(r2.findings.some((f) => f.rule === 'gup-leak'), JSON.stringify(r2.findings));
});
