import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePatchSet, looksLikePatch } from '../../../engine/patch/parse';
import { postImageFragments, preImageFragments, functionHeadFromSection } from '../../../engine/patch/fragments';
import { mapFinding } from '../../../engine/patch/analyze';
import type { Finding } from '../../../engine/findings';

// Hand-written kernel-style patches (never copied from the kernel).

function mail(n: number, total: number, subject: string, diff: string): string {
  return [
    `From 1234567890abcdef1234567890abcdef1234567${n} Mon Sep 17 00:00:00 2001`,
    'From: A Developer <dev@example.org>',
    'Date: Tue, 16 Apr 2019 12:00:00 +0000',
    `Subject: [PATCH ${n}/${total}] ${subject}`,
    '',
    'Commit message body.',
    'From the department of long lines: this body line starts with From.',
    '',
    '---',
    ' drivers/misc/foo.c | 3 ++-',
    ' 1 file changed, 2 insertions(+), 1 deletion(-)',
    '',
    diff,
    '-- ',
    '2.40.0',
    '',
  ].join('\n');
}

const DIFF_ONE = [
  'diff --git a/drivers/misc/foo.c b/drivers/misc/foo.c',
  'index 1111111..2222222 100644',
  '--- a/drivers/misc/foo.c',
  '+++ b/drivers/misc/foo.c',
  '@@ -10,7 +10,9 @@ static int foo_map(struct foo_dev *fd, unsigned long uaddr)',
  ' \tstruct page *pages[4];',
  ' \tlong got;',
  ' ',
  '-\tgot = get_user_pages_fast(uaddr, 4, 0, pages);',
  '+\tgot = pin_user_pages_fast(uaddr, 4, FOLL_WRITE, pages);',
  '+\tif (got < 0)',
  '+\t\treturn got;',
  ' \tfoo_dma(fd, pages, got);',
  ' \treturn 0;',
  ' }',
].join('\n');

test('format-patch mail: headers, one file, hunk line map (old/new numbers, patch rows)', () => {
  const text = mail(1, 1, 'foo: pin pages', DIFF_ONE);
  const set = parsePatchSet(text);
  assert.equal(set.problems.length, 0, JSON.stringify(set.problems));
  assert.equal(set.patches.length, 1);
  const p = set.patches[0];
  assert.equal(p.subject, '[PATCH 1/1] foo: pin pages');
  assert.equal(p.files.length, 1);
  const f = p.files[0];
  assert.equal(f.oldPath, 'drivers/misc/foo.c');
  assert.equal(f.newPath, 'drivers/misc/foo.c');
  assert.equal(f.status, 'modified');
  const h = f.hunks[0];
  assert.deepEqual([h.oldStart, h.oldCount, h.newStart, h.newCount], [10, 7, 10, 9]);
  assert.equal(h.section, 'static int foo_map(struct foo_dev *fd, unsigned long uaddr)');
  assert.equal(h.lines.length, 10);
  const rows = text.split('\n');
  for (const l of h.lines) {
    const prefix = l.kind === 'added' ? '+' : l.kind === 'removed' ? '-' : ' ';
    assert.equal(rows[l.patchRow], prefix + l.text, `row ${l.patchRow}`);
  }
  const removed = h.lines.find((l) => l.kind === 'removed')!;
  assert.equal(removed.oldLine, 13);
  assert.equal(removed.newLine, undefined);
  const added = h.lines.filter((l) => l.kind === 'added');
  assert.deepEqual(added.map((l) => l.newLine), [13, 14, 15]);
  const last = h.lines[h.lines.length - 1];
  assert.deepEqual([last.oldLine, last.newLine], [16, 18]);
});

test('mbox with three patches (and a cover letter) splits on From lines followed by headers', () => {
  const cover = [
    'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
    'From: A Developer <dev@example.org>',
    'Subject: [PATCH 0/3] foo: pin instead of get',
    '',
    'Cover letter text.',
    '',
  ].join('\n');
  const d2 = DIFF_ONE.replace(/foo\.c/g, 'bar.c');
  const d3 = DIFF_ONE.replace(/foo\.c/g, 'baz.h');
  const text = [cover, mail(1, 3, 'one', DIFF_ONE), mail(2, 3, 'two', d2), mail(3, 3, 'three', d3)].join('');
  const set = parsePatchSet(text);
  assert.equal(set.patches.length, 4);
  assert.deepEqual(set.patches.map((p) => p.files.length), [0, 1, 1, 1]);
  assert.deepEqual(set.patches.slice(1).map((p) => p.files[0].newPath), ['drivers/misc/foo.c', 'drivers/misc/bar.c', 'drivers/misc/baz.h']);
  assert.equal(set.problems.filter((p) => p.severity !== 'info').length, 0);
  const frags = postImageFragments(set);
  assert.deepEqual(frags.map((f) => [f.path, f.patchIndex]), [['drivers/misc/foo.c', 1], ['drivers/misc/bar.c', 2], ['drivers/misc/baz.h', 3]]);
});

test('format-patch with several files: only .c/.h become fragments; new, deleted and renamed files', () => {
  const diff = [
    'diff --git a/Documentation/foo.rst b/Documentation/foo.rst',
    'index 1..2 100644',
    '--- a/Documentation/foo.rst',
    '+++ b/Documentation/foo.rst',
    '@@ -1 +1 @@',
    '-old',
    '+new',
    'diff --git a/drivers/misc/new.c b/drivers/misc/new.c',
    'new file mode 100644',
    'index 0000000..3333333',
    '--- /dev/null',
    '+++ b/drivers/misc/new.c',
    '@@ -0,0 +1,4 @@',
    '+static int new_fn(void)',
    '+{',
    '+\treturn 0;',
    '+}',
    'diff --git a/drivers/misc/gone.c b/drivers/misc/gone.c',
    'deleted file mode 100644',
    'index 4444444..0000000',
    '--- a/drivers/misc/gone.c',
    '+++ /dev/null',
    '@@ -1,2 +0,0 @@',
    '-int gone;',
    '-int gone2;',
    'diff --git a/drivers/misc/old_name.c b/drivers/misc/new_name.c',
    'similarity index 100%',
    'rename from drivers/misc/old_name.c',
    'rename to drivers/misc/new_name.c',
  ].join('\n');
  const set = parsePatchSet(mail(1, 1, 'several', diff));
  const files = set.patches[0].files;
  assert.deepEqual(files.map((f) => f.status), ['modified', 'added', 'deleted', 'renamed']);
  assert.equal(files[1].oldPath, undefined);
  assert.equal(files[1].newPath, 'drivers/misc/new.c');
  assert.equal(files[2].newPath, undefined);
  assert.deepEqual([files[3].oldPath, files[3].newPath], ['drivers/misc/old_name.c', 'drivers/misc/new_name.c']);
  const post = postImageFragments(set);
  assert.deepEqual(post.map((f) => f.path), ['drivers/misc/new.c']);
  assert.equal(post[0].text, 'static int new_fn(void)\n{\n\treturn 0;\n}\n');
  const pre = preImageFragments(set);
  assert.deepEqual(pre.map((f) => f.path), ['drivers/misc/gone.c']);
  assert.equal(pre[0].text, 'int gone;\nint gone2;\n');
});

test('post-image of a mid-function hunk gets the head from the section and balanced braces', () => {
  const set = parsePatchSet(DIFF_ONE);
  const [frag] = postImageFragments(set);
  const kinds = frag.lines.map((l) => l.kind);
  assert.equal(kinds[0], 'synthetic');
  assert.equal(frag.lines[0].text, 'static int foo_map(struct foo_dev *fd, unsigned long uaddr)');
  assert.equal(frag.lines[1].text, '{');
  assert.ok(!frag.text.includes('get_user_pages_fast'), 'removed lines are not in the post-image');
  assert.ok(frag.text.includes('pin_user_pages_fast'));
  // the hunk closes the function itself: no synthetic closer
  assert.equal(kinds[kinds.length - 1], 'context');
  const pre = preImageFragments(set)[0];
  assert.ok(pre.text.includes('get_user_pages_fast') && !pre.text.includes('pin_user_pages_fast'));
  // a hunk that stays inside the body gets a synthetic closer
  const open = parsePatchSet(DIFF_ONE.replace('@@ -10,7 +10,9 @@', '@@ -10,6 +10,8 @@').split('\n').slice(0, -1).join('\n'));
  const f2 = postImageFragments(open)[0];
  assert.equal(f2.lines[f2.lines.length - 1].kind, 'synthetic');
  assert.deepEqual(f2.lines.slice(-2).map((l) => l.text), ['}', ';']);
});

test('a function spanning two hunks is joined (with a gap line); an unrelated hunk starts fresh', () => {
  const diff = [
    '--- a/mm/foo.c',
    '+++ b/mm/foo.c',
    '@@ -20,4 +20,5 @@ struct foo_ops {',
    ' static long foo_grab(unsigned long uaddr, struct page **pages)',
    ' {',
    ' \tlong ret;',
    '+\tret = pin_user_pages_fast(uaddr, 8, 0, pages);',
    ' \tif (ret < 0)',
    '@@ -60,3 +61,3 @@ static long foo_grab(unsigned long uaddr, struct page **pages)',
    ' \t\tgoto out;',
    '-\tput_page(pages[0]);',
    '+\tunpin_user_page(pages[0]);',
    ' out:',
    '@@ -90,3 +91,4 @@ static long foo_grab(unsigned long uaddr, struct page **pages)',
    ' \treturn ret;',
    ' }',
    '+int foo_flag;',
    ' int foo_other;',
  ].join('\n');
  const set = parsePatchSet(diff);
  assert.equal(set.problems.length, 0, JSON.stringify(set.problems));
  const [frag] = postImageFragments(set);
  const body = frag.lines.map((l) => `${l.kind[0]}:${l.text}`);
  assert.equal(body.filter((l) => l.startsWith('s:')).length, 0, body.join('\n'));
  assert.equal(body.filter((l) => l.startsWith('g:')).length, 2, body.join('\n'));
  assert.ok(frag.text.indexOf('pin_user_pages_fast') < frag.text.indexOf('unpin_user_page('));
});

test('function head from a hunk section', () => {
  assert.equal(functionHeadFromSection('static int foo(struct a *a, int b)'), 'static int foo(struct a *a, int b)');
  assert.equal(functionHeadFromSection('static int foo(struct a *a, int b) {'), 'static int foo(struct a *a, int b)');
  assert.equal(functionHeadFromSection('static int foo(struct a *a,'), 'static int foo(struct a *a)');
  assert.equal(functionHeadFromSection('long bar(unsigned long start, unsigned long nr,'), 'long bar(unsigned long start, unsigned long nr)');
  assert.equal(functionHeadFromSection('frob_submit(struct frob *f, int nr)'), 'int frob_submit(struct frob *f, int nr)');
  assert.equal(functionHeadFromSection('static noinline long __init frob(void)'), 'static noinline long __init frob(void)');
  assert.equal(functionHeadFromSection('if (x) {'), undefined);
  assert.equal(functionHeadFromSection('struct foo_ops {'), undefined);
  assert.equal(functionHeadFromSection(''), undefined);
  assert.equal(functionHeadFromSection('int x;'), undefined);
});

test('broken input: truncated hunk, bad counts, binary patch, no diff, CRLF — partial results, no throw', () => {
  const truncated = DIFF_ONE.split('\n').slice(0, 9).join('\n');
  const t = parsePatchSet(truncated);
  assert.equal(t.patches[0].files[0].hunks[0].truncated, true);
  assert.ok(t.problems.some((p) => /truncated/.test(p.message) && p.range?.startRow === 4), JSON.stringify(t.problems));
  assert.ok(postImageFragments(t).length === 1, 'a truncated hunk still yields its lines');

  const overlong = DIFF_ONE.replace('@@ -10,7 +10,9 @@', '@@ -10,6 +10,8 @@');
  const o = parsePatchSet(overlong);
  assert.ok(o.problems.some((p) => /more line/.test(p.message)), JSON.stringify(o.problems));
  assert.equal(o.patches[0].files[0].hunks[0].lines.filter((l) => l.kind === 'added').length, 3);

  const binary = [
    'diff --git a/firmware/blob.bin b/firmware/blob.bin',
    'new file mode 100644',
    'index 0000000..5555555',
    'GIT binary patch',
    'literal 12',
    'zcmZQzKm~^Pf',
    '',
    'literal 0',
    'HcmV?d00001',
    '',
    DIFF_ONE,
  ].join('\n');
  const b = parsePatchSet(binary);
  assert.equal(b.patches[0].files[0].binary, true);
  assert.ok(b.problems.some((p) => p.severity === 'info' && /binary/.test(p.message)));
  assert.equal(b.patches[0].files[1].hunks[0].lines.length, 10);

  const none = parsePatchSet('just some words\nand more\n');
  assert.ok(none.problems.some((p) => /no diff/.test(p.message)));

  const crlf = parsePatchSet(mail(1, 1, 'crlf', DIFF_ONE).replace(/\n/g, '\r\n'));
  assert.equal(crlf.problems.length, 0, JSON.stringify(crlf.problems));
  const h = crlf.patches[0].files[0].hunks[0];
  assert.equal(h.lines.length, 10);
  assert.ok(h.lines.every((l) => !l.text.includes('\r')));

  for (const junk of ['', '@@ -1,2 +1,2 @@\n', 'diff --git \n--- \n+++ \n@@ -x +y @@\n', '\u0000\u0001', 'From \n']) {
    assert.doesNotThrow(() => postImageFragments(parsePatchSet(junk)));
  }
});

test('quoted-printable mail bodies are decoded; RFC 2047 subjects too', () => {
  const text = [
    'From: Dev <dev@example.org>',
    'Subject: =?UTF-8?q?foo=3A_caf=C3=A9?=',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '--- a/a.c',
    '+++ b/a.c',
    '@@ -1,1 +1,2 @@',
    ' int a =3D 1;',
    '+int b =3D 2; /* a very long line that the mailer wrapped with a soft line=',
    ' break */',
  ].join('\n');
  const set = parsePatchSet(text);
  assert.equal(set.patches[0].subject, 'foo: café');
  const h = set.patches[0].files[0].hunks[0];
  assert.deepEqual(h.lines.map((l) => l.text), ['int a = 1;', 'int b = 2; /* a very long line that the mailer wrapped with a soft line break */']);
});

test('looksLikePatch sniffs mbox, git diffs and plain diffs but not C', () => {
  assert.ok(looksLikePatch('From abc Mon Sep 17 00:00:00 2001\nFrom: x\n'));
  assert.ok(looksLikePatch('diff --git a/x b/x\n'));
  assert.ok(looksLikePatch('--- a/x.c\n+++ b/x.c\n'));
  assert.ok(!looksLikePatch('static int foo(void)\n{\n\treturn 0;\n}\n'));
  assert.ok(!looksLikePatch('/* --- a comment */\nint x;\n'));
});

function rangeAt(row: number, col: number, len: number) {
  return { start: 0, end: len, startRow: row, startCol: col, endRow: row, endCol: col + len };
}

test('findings map back to patch rows and columns; only changed functions; synthetic lines dropped', () => {
  const text = mail(1, 1, 'map', DIFF_ONE);
  const set = parsePatchSet(text);
  const [frag] = postImageFragments(set);
  const rows = text.split('\n');
  const fragRow = frag.lines.findIndex((l) => l.text.includes('pin_user_pages_fast'));
  const col = frag.lines[fragRow].text.indexOf('pin_user_pages_fast');
  const fn = { name: 'foo_map', range: { ...rangeAt(0, 0, 1), endRow: frag.lines.length - 1 } };
  const fileIR = { functions: [fn], globals: [], syntaxErrors: [] } as never;
  const base: Finding = { rule: 'gup-leak', severity: 'error', message: 'm', range: rangeAt(fragRow, col, 19), function: 'foo_map', related: [] };
  const m = mapFinding(set, frag, fileIR, base)!;
  assert.ok(m);
  assert.equal(rows[m.finding.range.startRow].slice(m.finding.range.startCol, m.finding.range.endCol), 'pin_user_pages_fast');
  assert.equal(text.slice(m.finding.range.start, m.finding.range.end), 'pin_user_pages_fast');
  assert.equal(m.target.path, 'drivers/misc/foo.c');
  assert.equal(m.target.line, 13);
  assert.equal(m.target.column, col + 1);
  // a finding anchored on the synthesized head is dropped
  assert.equal(mapFinding(set, frag, fileIR, { ...base, range: rangeAt(0, 4, 3) }), undefined);
  // a related location on a synthetic line drops the finding too
  assert.equal(mapFinding(set, frag, fileIR, { ...base, related: [{ range: rangeAt(frag.lines.length === 0 ? 0 : 1, 0, 1), message: 'x' }] }), undefined);
  // a function without added lines: not the patch's finding
  const ctxOnly = { functions: [{ name: 'foo_map', range: rangeAt(0, 0, 1) }, { name: 'other', range: { ...rangeAt(fragRow + 3, 0, 1), endRow: fragRow + 4 } }], globals: [], syntaxErrors: [] } as never;
  assert.equal(mapFinding(set, frag, ctxOnly, { ...base, function: 'other', range: rangeAt(fragRow + 3, 1, 3) }), undefined);
});

test('base64 mail bodies and B-encoded subjects are decoded', () => {
  const diff = ['--- a/b.c', '+++ b/b.c', '@@ -1,1 +1,2 @@', ' int a;', '+int b; /* é */', ''].join('\n');
  const b64 = Buffer.from(diff, 'utf8').toString('base64').replace(/(.{60})/g, '$1\n');
  const text = [
    'From: Dev <dev@example.org>',
    `Subject: =?UTF-8?B?${Buffer.from('[PATCH] b: ünïcode', 'utf8').toString('base64')}?=`,
    'Content-Transfer-Encoding: base64',
    '',
    b64,
  ].join('\n');
  const set = parsePatchSet(text);
  assert.equal(set.patches[0].subject, '[PATCH] b: ünïcode');
  const h = set.patches[0].files[0].hunks[0];
  assert.deepEqual(h.lines.map((l) => [l.kind, l.text]), [['context', 'int a;'], ['added', 'int b; /* é */']]);
  const rows = text.split('\n').length;
  for (const l of h.lines) assert.ok(l.patchRow >= 4 && l.patchRow < rows, 'decoded lines map into the encoded body');
});

test('a combined diff (merge) is skipped with a note, the next file still parsed', () => {
  const text = [
    'diff --cc mm/a.c',
    'index 1,2..3',
    '--- a/mm/a.c',
    '+++ b/mm/a.c',
    '@@@ -1,2 -1,2 +1,3 @@@',
    '  int a;',
    '+ int b;',
    '++int c;',
    DIFF_ONE,
  ].join('\n');
  const set = parsePatchSet(text);
  assert.ok(set.problems.some((p) => p.severity === 'info' && /combined diff/.test(p.message)));
  assert.deepEqual(set.patches[0].files.map((f) => f.newPath), ['drivers/misc/foo.c']);
});
