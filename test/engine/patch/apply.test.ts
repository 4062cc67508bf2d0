import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePatchSet } from '../../../engine/patch/parse';
import { applyHunks, mapApplied, postImages, preImages } from '../../../engine/patch/apply';
import { createEngine } from '../../../engine/engine';
import { analyzePatchText } from '../../../engine/patch/analyze';

// A base file and a patch against it, both hand-written kernel-style code.
const BASE = [
  'static int frob_prepare(struct frob *f);',
  '',
  'static int frob_submit(struct frob *f, unsigned long uaddr, struct page **pages, int nr)',
  '{',
  '\tlong got = 0;',
  '\tint ret;',
  '',
  '\tret = frob_prepare(f);',
  '\tif (ret)',
  '\t\treturn ret;',
  '',
  '\tf->count++;',
  '\tf->state = FROB_BUSY;',
  '\tf->stamp = jiffies;',
  '\tf->owner = current->pid;',
  '',
  '\tif (!f->ready)',
  '\t\treturn -EAGAIN;',
  '',
  '\tunpin_user_pages(pages, got);',
  '\treturn 0;',
  '}',
  '',
];

// Adds the pin after frob_prepare(); the existing `return -EAGAIN` further down now leaks it.
function pinPatch(oldStart: number): string {
  return [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    `@@ -${oldStart},6 +${oldStart},9 @@ static int frob_submit(struct frob *f, unsigned long uaddr, struct page **pages, int nr)`,
    ' \tret = frob_prepare(f);',
    ' \tif (ret)',
    ' \t\treturn ret;',
    '+\tgot = pin_user_pages_fast(uaddr, nr, 0, pages);',
    '+\tif (got <= 0)',
    '+\t\treturn -EFAULT;',
    ' ',
    ' \tf->count++;',
    ' \tf->state = FROB_BUSY;',
    '',
  ].join('\n');
}

test('applyHunks: exact position, drifted position, and a hunk that does not fit', () => {
  const set = parsePatchSet(pinPatch(8));
  const file = set.patches[0].files[0];
  const lines = applyHunks(BASE.join('\n'), file, 0)!;
  assert.ok(lines);
  assert.equal(lines.length, BASE.length - 1 + 3);
  assert.equal(lines[10].text, '\tgot = pin_user_pages_fast(uaddr, nr, 0, pages);');
  assert.equal(lines[10].kind, 'added');
  assert.equal(lines[0].kind, 'base');
  assert.deepEqual(lines.map((l) => l.fileLine), lines.map((_, i) => i + 1));
  // header says line 4 but the code is at 8: exact fails, fuzz finds it
  const drift = parsePatchSet(pinPatch(4)).patches[0].files[0];
  assert.equal(applyHunks(BASE.join('\n'), drift, 0), undefined);
  assert.equal(applyHunks(BASE.join('\n'), drift, 100)![10].kind, 'added');
  // a different base does not fit at all
  assert.equal(applyHunks(BASE.join('\n').replace('frob_prepare(f);\n\tif', 'frob_prepare(f);\n\tif (!f)\n\tif'), file, 100), undefined);
});

test('mapApplied: a tree that already has the patch', () => {
  const set = parsePatchSet(pinPatch(8));
  const file = set.patches[0].files[0];
  const applied = applyHunks(BASE.join('\n'), file, 0)!.map((l) => l.text).join('\n') + '\n';
  const lines = mapApplied(applied, file)!;
  assert.ok(lines);
  assert.equal(lines.filter((l) => l.kind === 'added').length, 3);
  assert.equal(mapApplied(BASE.join('\n'), file), undefined);
  // postImages picks "already applied" when the base cannot take the hunks
  const frags = postImages(set, { readBase: () => applied });
  assert.equal(frags[0].whole, true);
  assert.equal(frags[0].text, applied);
});

test('postImages applies a series in order and falls back to fragments without the file', () => {
  const p1 = pinPatch(8);
  // patch 2 changes a line patch 1 added
  const p2 = [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    '@@ -11,3 +11,3 @@ static int frob_submit(struct frob *f, unsigned long uaddr, struct page **pages, int nr)',
    ' \tgot = pin_user_pages_fast(uaddr, nr, 0, pages);',
    '-\tif (got <= 0)',
    '+\tif (got < 0)',
    ' \t\treturn -EFAULT;',
    '',
  ].join('\n');
  const mail = (n: number, d: string) => `From 000${n} Mon Sep 17 00:00:00 2001\nFrom: Dev <d@example.org>\nSubject: [PATCH ${n}/2] x\n\n---\n${d}`;
  const set = parsePatchSet(mail(1, p1) + mail(2, p2));
  const frags = postImages(set, { readBase: (p) => (p === 'drivers/misc/frob.c' ? BASE.join('\n') + '\n' : undefined) });
  assert.equal(frags.length, 2);
  assert.ok(frags.every((f) => f.whole));
  assert.ok(frags[1].text.includes('\tif (got < 0)\n'));
  assert.ok(!frags[1].text.includes('got <= 0'));
  const none = postImages(set, { readBase: () => undefined });
  assert.ok(none.every((f) => !f.whole));
});

test('with the tree, a leak on an untouched return that the added pin creates is reported on the added line', async () => {
  const engine = await createEngine();
  const patch = pinPatch(8);
  const fragmentOnly = engine.analyzePatch(patch, { path: 'p.patch' });
  assert.equal(fragmentOnly.findings.filter((f) => f.rule === 'gup-leak').length, 0, 'the leaking return is not in the hunk');
  const whole = engine.analyzePatch(patch, { path: 'p.patch', readBase: () => BASE.join('\n') + '\n' });
  assert.deepEqual(whole.problems, []);
  const leak = whole.findings.find((f) => f.rule === 'gup-leak');
  assert.ok(leak, JSON.stringify(whole.findings));
  const rows = patch.split('\n');
  assert.ok(rows[leak!.range.startRow].startsWith('+'), 'anchored on an added line');
  assert.equal(patch.slice(leak!.range.start, leak!.range.end), 'got = pin_user_pages_fast(uaddr, nr, 0, pages);');
  const t = whole.targets![whole.findings.indexOf(leak!)];
  assert.equal(t.path, 'drivers/misc/frob.c');
  assert.equal(t.line, 21, 'the note names the real leaking line in the patched file');
  // the message cites patch lines where the patch shows them, file lines (named) elsewhere;
  // the target cites patched-file lines
  assert.match(leak!.message, /at line 7\b/, leak!.message);
  assert.match(leak!.message, /line 21 of drivers\/misc\/frob\.c/, leak!.message);
  assert.match(t.message!, /at line 11\b.*line 21\b/, t.message);
});

test('with the tree, old debt in a function the patch touches is not blamed on the patch', async () => {
  const engine = await createEngine();
  // The leak on `return -EAGAIN` exists before the patch; the patch only adds a counter.
  const base = BASE.map((l) => (l === '\tlong got = 0;' ? '\tlong got = pin_user_pages_fast(uaddr, nr, 0, pages);' : l));
  assert.ok(engine.analyzeC(base.join('\n'), { path: 'frob.c' }).findings.some((f) => f.rule === 'gup-leak'), 'the base has the leak');
  const patch = [
    '--- a/drivers/misc/frob.c',
    '+++ b/drivers/misc/frob.c',
    '@@ -11,4 +11,5 @@ static int frob_submit(struct frob *f, unsigned long uaddr, struct page **pages, int nr)',
    ' ',
    ' \tf->count++;',
    '+\tf->submits++;',
    ' \tf->state = FROB_BUSY;',
    ' \tf->stamp = jiffies;',
    '',
  ].join('\n');
  const whole = engine.analyzePatch(patch, { path: 'p.patch', readBase: () => base.join('\n') + '\n' });
  assert.deepEqual(whole.problems, []);
  assert.deepEqual(whole.findings, [], 'pre-existing finding is not the patch\'s');
});

test('with the tree, a finding the patch causes in an unchanged function is anchored on the nearest added line', () => {
  // A stand-in analyzer (the rules are tested elsewhere): it reports a leak in `caller` whenever
  // `helper` no longer releases, the shape of a patch that breaks a same-file release helper.
  const base = [
    'static void helper(struct page **pages, long n)',
    '{',
    '\tunpin_user_pages(pages, n);',
    '}',
    '',
    'static int caller(unsigned long uaddr, struct page **pages, int nr)',
    '{',
    '\tlong got = pin_user_pages_fast(uaddr, nr, 0, pages);',
    '\thelper(pages, got);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const patch = [
    '--- a/mm/x.c',
    '+++ b/mm/x.c',
    '@@ -1,4 +1,4 @@',
    ' static void helper(struct page **pages, long n)',
    ' {',
    '-\tunpin_user_pages(pages, n);',
    '+\tlog_pages(n);',
    ' }',
    '',
  ].join('\n');
  const fake = ({ text }: { text: string }) => {
    const rows = text.split('\n');
    const row = rows.findIndex((l) => l.includes('pin_user_pages_fast'));
    const fnRow = rows.findIndex((l) => l.startsWith('static int caller'));
    const range = { start: 0, end: 0, startRow: row, startCol: 1, endRow: row, endCol: 5 };
    const fn = { name: 'caller', range: { ...range, startRow: fnRow, endRow: fnRow + 5 } };
    const hfn = { name: 'helper', range: { ...range, startRow: 0, endRow: 3 } };
    return {
      findings: text.includes('unpin_user_pages(pages, n)') ? [] : [{ rule: 'gup-leak', severity: 'error' as const, message: `leak of pages taken at line ${row + 1}`, range, function: 'caller', related: [] }],
      file: { functions: [hfn, fn], globals: [], syntaxErrors: [] } as never,
    };
  };
  const r = analyzePatchText(patch, fake, { readBase: () => base });
  assert.equal(r.findings.length, 1);
  const f = r.findings[0];
  assert.equal(patch.split('\n')[f.range.startRow], '+\tlog_pages(n);');
  // a line the patch does not show is cited with its file; the target cites the file's lines
  assert.match(f.message, /^leak of pages taken at line 8 of mm\/x\.c \(at line 8 of mm\/x\.c, in caller\(\), which this patch does not change\)$/);
  assert.equal(r.targets[0].message, 'leak of pages taken at line 8');
  assert.deepEqual([r.targets[0].path, r.targets[0].line], ['mm/x.c', 8]);
  // without the tree, the caller is not in the patch at all
  assert.equal(analyzePatchText(patch, fake).findings.length, 0);
});

test('preImages: whole base file with the hunk old sides marked, else fragments', () => {
  const set = parsePatchSet(pinPatch(8));
  const whole = preImages(set, { readBase: () => BASE.join('\n') + '\n' });
  assert.equal(whole.length, 1);
  assert.equal(whole[0].whole, true);
  assert.equal(whole[0].text, BASE.join('\n') + '\n');
  assert.deepEqual(whole[0].lines.filter((l) => l.kind === 'context').map((l) => l.fileLine), [8, 9, 10, 11, 12, 13]);
  const frag = preImages(set);
  assert.equal(frag[0].whole, undefined);
  assert.ok(!frag[0].text.includes('pin_user_pages_fast'));
});
