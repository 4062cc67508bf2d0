// DocumentSession in process: after any sequence of edits, the incremental path (kept tree,
// one-function re-lowering, per-function findings cache) must give exactly what a fresh
// engine.analyzeC of the same text gives: same findings, same IR. And it must actually be
// incremental: an edit inside one function re-lowers and re-checks only that function.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type Engine } from '../../engine/engine';
import { DocumentSession } from '../../engine/session';
import { lensTitle, summarizeFile } from '../../engine/explain/function-summary';
import { generateLargeFile, rng } from '../../bench/generate-corpus';
import { balancedC, earlyReturn, formatPatch, leakInsertionLine, leakingLine, lineOf, mismatchC, patchAdded, patchContext } from './fixtures';

let enginePromise: Promise<Engine> | undefined;
const engine = () => (enginePromise ??= createEngine());


/** A same-file release helper, so intra-file summaries matter to the cache. */
const helperC = `
static void demo_put_all(struct page **pages, long n)
{
	long i;

	for (i = 0; i < n; i++)
		unpin_user_page(pages[i]);
}

static int demo_with_helper(unsigned long uaddr, struct page **pages, int nr)
{
	long got;

	got = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (got <= 0)
		return -EFAULT;
	demo_put_all(pages, got);
	return 0;
}
`;

function strip<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

function assertSame(e: Engine, s: DocumentSession, what: string): void {
  const got = s.analyze();
  const want = e.analyzeC(s.text, { path: s.path });
  want.tree?.delete();
  assert.deepEqual(strip(got.findings), strip(want.findings), `findings differ after ${what}`);
  assert.deepEqual(strip(got.file), strip(want.file), `IR differs after ${what} (${JSON.stringify({ relowered: s.stats.relowered, incremental: s.stats.incrementalParse })})`);
}

test('incremental results equal a fresh analysis after random edits', async () => {
  const e = await engine();
  const base = `${mismatchC}\n${balancedC}\n${helperC}\n${generateLargeFile(260, 11)}`;
  const s = new DocumentSession(e, 'file:///r.c', '/r.c', base);
  assertSame(e, s, 'open');
  const r = rng(2026);
  const snippets = [
    earlyReturn,
    '\tif (dev->abort) return -EINTR;\n',
    '\tput_page(pages[0]);\n',
    'x',
    ';',
    '{',
    '}',
    '/* ',
    ' */',
    '\n',
    '\tunpin_user_pages(pages, nr_pages);\n',
    'static int late(void) { return 0; }\n',
    '__user ',
    '// @faultline suppress gup-leak: test\n',
    '"',
  ];
  let relowered = 0;
  for (let i = 0; i < 120; i++) {
    const lines = s.text.split('\n');
    const line = Math.floor(r() * lines.length);
    const character = Math.floor(r() * (lines[line].length + 1));
    const kind = r();
    let what: string;
    if (kind < 0.55) {
      const text = snippets[Math.floor(r() * snippets.length)];
      s.applyChange({ range: { start: { line, character }, end: { line, character } }, text });
      what = `insert ${JSON.stringify(text)} at ${line}:${character}`;
    } else if (kind < 0.85) {
      const endLine = Math.min(lines.length - 1, line + Math.floor(r() * 3));
      s.applyChange({ range: { start: { line, character: 0 }, end: { line: endLine, character: lines[endLine].length } }, text: '' });
      what = `delete ${line}-${endLine}`;
    } else {
      const len = Math.floor(r() * 6);
      s.applyChange({ range: { start: { line, character }, end: { line, character: character + len } }, text: '' });
      what = `delete ${len} chars at ${line}:${character}`;
    }
    assertSame(e, s, `edit ${i}: ${what}`);
    if (s.stats.relowered === 1) relowered++;
  }
  // Most random edits land inside a function body: the one-function path must be the common one.
  assert.ok(relowered > 20, `one-function re-lowering taken ${relowered} times`);
  s.dispose();
});

test('an edit inside one function re-checks only that function (and keeps the rest cached)', async () => {
  const e = await engine();
  const text = generateLargeFile(1200, 5);
  const s = new DocumentSession(e, 'file:///big.c', '/big.c', text);
  const first = s.analyze();
  assert.ok(s.stats.functions > 10);
  assert.equal(s.stats.reanalyzed, s.stats.functions);
  const target = leakInsertionLine(text, first.findings.map((f) => f.range.startRow));
  s.applyChange({ range: { start: { line: target, character: 0 }, end: { line: target, character: 0 } }, text: leakingLine });
  const second = s.analyze();
  assert.equal(s.stats.relowered, 1, 'one function lowered again');
  assert.equal(s.stats.reanalyzed, 1, 'one function checked again');
  assert.ok(s.stats.incrementalParse);
  assert.ok(second.findings.length > first.findings.length, 'the early return leaks');
  const leak = second.findings.find((f) => f.rule === 'gup-leak' && f.range.startRow === target);
  assert.ok(leak, JSON.stringify(second.findings.filter((f) => f.range.startRow >= target - 30 && f.range.startRow <= target + 30)));
  // Undo: back to the first text, every function served from the cache.
  s.applyChange({ range: { start: { line: target, character: 0 }, end: { line: target + 1, character: 0 } }, text: '' });
  const third = s.analyze();
  assert.equal(s.stats.reanalyzed, 0);
  assert.deepEqual(strip(third.findings), strip(first.findings));
  s.dispose();
});

test('a helper edit re-checks its callers: the cache key covers same-file callees', async () => {
  const e = await engine();
  const s = new DocumentSession(e, 'file:///h.c', '/h.c', helperC);
  assert.deepEqual(s.analyze().findings, [], 'pinned, released by a helper that unpins: clean');
  // Make the helper drop plain references: its caller now mismatches, although the caller's
  // own text is unchanged.
  const rel = lineOf(s.text, '\t\tunpin_user_page(pages[i]);');
  s.applyChange({ range: { start: { line: rel, character: 2 }, end: { line: rel, character: 2 + 'unpin_user_page'.length } }, text: 'put_page' });
  const after = s.analyze();
  assert.ok(s.stats.reanalyzed >= 2, `helper and caller re-checked (${s.stats.reanalyzed})`);
  assert.ok(after.findings.some((f) => f.rule === 'gup-release-mismatch' && f.function === 'demo_with_helper'), JSON.stringify(after.findings));
  assertSame(e, s, 'helper edit');
  s.dispose();
});

test('settings changes re-run everything with the new rule set', async () => {
  const e = await engine();
  const s = new DocumentSession(e, 'file:///m.c', '/m.c', mismatchC.replace('$0', ''));
  assert.ok(s.analyze().findings.some((f) => f.rule === 'gup-release-mismatch'));
  s.setOptions({ rules: ['gup-leak'] });
  assert.equal(s.current, undefined, 'the old result no longer describes the settings');
  assert.ok(!s.analyze().findings.some((f) => f.rule === 'gup-release-mismatch'));
  s.setOptions({});
  assert.ok(s.analyze().findings.some((f) => f.rule === 'gup-release-mismatch'));
  s.dispose();
});

test('patch documents go through the patch analysis; positions are in the patch', async () => {
  const e = await engine();
  const patch = formatPatch('drivers/demo/demo.c', patchContext, patchAdded, 'demo: pin');
  const s = new DocumentSession(e, 'file:///p.patch', '/p.patch', patch);
  assert.equal(s.kind, 'patch');
  const r = s.analyze();
  const f = r.findings.find((x) => x.rule === 'gup-release-mismatch');
  assert.ok(f, JSON.stringify(r));
  assert.ok(patch.split('\n')[f.range.startRow].startsWith('+'), 'on an added line of the patch');
});

test('analyzeAsync gives way to a newer edit and resolves undefined', async () => {
  const e = await engine();
  const s = new DocumentSession(e, 'file:///a.c', '/a.c', balancedC);
  const pending = s.analyzeAsync();
  s.applyChange({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '\n' });
  assert.equal(await pending, undefined);
  const r = await s.analyzeAsync();
  assert.ok(r && r.edits === s.edits);
  let calls = 0;
  assert.equal(await s.analyzeAsync(() => ++calls > 0), undefined, 'an outside cancellation is honoured too');
  s.dispose();
});

test('code-lens summaries: GUP acquisitions, fault-in retry loops, uaccess under a fault-relevant lock', async () => {
  const e = await engine();
  const text = `
static ssize_t demo_read(struct demo_file *df, char __user *buf, size_t len)
{
	size_t left = len, done = 0;

	for (;;) {
		pagefault_disable();
		left = copy_to_user(buf + done, df->data + done, len - done);
		pagefault_enable();
		if (!left)
			break;
		if (fault_in_writeable(buf + done, len - done) == len - done)
			return -EFAULT;
	}
	return len;
}

static int demo_glock_read(struct demo_inode *ip, char __user *buf, size_t len)
{
	int ret;

	gfs2_glock_nq(&ip->gh);
	ret = copy_to_user(buf, ip->data, len) ? -EFAULT : 0;
	gfs2_glock_dq(&ip->gh);
	return ret;
}

static int demo_mutex_copy(struct demo_dev *dev, void __user *argp)
{
	int ret = 0;

	mutex_lock(&dev->lock);
	if (copy_to_user(argp, &dev->state, sizeof(dev->state)))
		ret = -EFAULT;
	mutex_unlock(&dev->lock);
	return ret;
}

static int demo_copy_after_unlock(struct demo_dev *dev, void __user *argp)
{
	struct demo_state st;

	spin_lock(&dev->slock);
	st = dev->state;
	spin_unlock(&dev->slock);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}
`;
  const r = e.analyzeC(text, { path: 'l.c' });
  const sums = summarizeFile(r.file!);
  const byName = new Map(sums.map((x) => [x.name, x]));
  assert.deepEqual([...byName.keys()].sort(), ['demo_glock_read', 'demo_read'], 'driver mutex and copy after unlock get no lens');
  assert.equal(byName.get('demo_read')!.faultInLoops.length, 1);
  assert.equal(byName.get('demo_glock_read')!.uaccessUnderLock.length, 1);
  assert.deepEqual(byName.get('demo_glock_read')!.uaccessUnderLock[0].locks, ['glock &ip->gh']);
  assert.equal(lensTitle(byName.get('demo_read')!, 0), 'Faultline: 1 fault-in loop · no findings');
});

test('analyzeAsync yields between rule chunks: an edit mid-way cancels the rest, finished chunks stay cached', async () => {
  const e = await engine();
  const text = generateLargeFile(1200, 9);
  const s = new DocumentSession(e, 'file:///c.c', '/c.c', text);
  const pending = s.analyzeAsync();
  // Turn 1 of the event loop: the analysis parses, lowers and checks its first chunk, then yields.
  await new Promise((resolve) => setImmediate(resolve));
  const lines = s.text.split('\n');
  const last = lines.lastIndexOf('}');
  s.applyChange({ range: { start: { line: last - 1, character: 0 }, end: { line: last - 1, character: 0 } }, text: ' ' });
  assert.equal(await pending, undefined, 'superseded');
  const r = s.analyze();
  assert.ok(s.stats.functions > 20);
  assert.ok(s.stats.reanalyzed < s.stats.functions, `${s.stats.reanalyzed} of ${s.stats.functions} re-checked: the first chunk was kept`);
  const fresh = e.analyzeC(s.text, { path: s.path });
  fresh.tree?.delete();
  assert.deepEqual(strip(r.findings), strip(fresh.findings));
  s.dispose();
});
