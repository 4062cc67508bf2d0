// Loop recognition (engine/analysis/faultin): every loop shape, copies with faults disabled
// directly or through same-file helpers, the progress variable, how fault-in results are read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInLoopFinder, resultUse } from '../../../engine/analysis/faultin/index';
import type { CallStmt } from '../../../engine/ir';
import { fixture, lower } from './helpers';

function body(loopHead: string, loopTail: string, inner: string): string {
  return `
static long f(char __user *ubuf, size_t len, const char *src)
{
	size_t done = 0;
	unsigned long left;

	${loopHead}
		pagefault_disable();
		left = copy_to_user(ubuf + done, src + done, len - done);
		pagefault_enable();
		done = len - left;
		${inner}
	${loopTail}
	return done;
}`;
}

const SHAPES: [string, string, string, string][] = [
  ['while (1)', 'while (1) {', '}', 'while'],
  ['for (;;)', 'for (;;) {', '}', 'for'],
  ['do/while', 'do {', '} while (done < len);', 'do'],
  ['goto again', 'again:', 'if (done < len) goto again;', 'goto'],
];

for (const [name, head, tail, kind] of SHAPES) {
  test(`a ${name} retry loop with the copy in a pagefault_disable() region is recognised`, async () => {
    const { byName, fn } = await lower(body(head, tail, 'if (left && fault_in_writeable(ubuf + done, left)) return -EFAULT; if (!left) break;'.replace(' if (!left) break;', kind === 'goto' ? '' : ' if (!left) break;')));
    const loops = new FaultInLoopFinder(byName).loops(fn('f'));
    assert.equal(loops.length, 1);
    assert.equal(loops[0].loop.kind, kind);
    assert.equal(loops[0].copies[0].copyCall.callee, 'copy_to_user');
    assert.equal(loops[0].copies[0].how, 'pagefault-disabled');
    assert.equal(loops[0].faultIns[0].faultCall.callee, 'fault_in_writeable');
    assert.deepEqual(loops[0].progress, ['done']);
  });
}

test('no loop without a fault-in, and none when the copy may fault (page faults enabled)', async () => {
  const noFaultIn = await lower(body('while (done < len) {', '}', 'if (left) return -EFAULT;'));
  assert.equal(new FaultInLoopFinder(noFaultIn.byName).loops(noFaultIn.fn('f')).length, 0);
  const faulting = await lower(`
static long g(char __user *ubuf, size_t len, const char *src)
{
	unsigned long left;

	while (len) {
		left = copy_to_user(ubuf, src, len);
		if (left && fault_in_writeable(ubuf, left))
			return -EFAULT;
		len = left;
	}
	return 0;
}`);
  assert.equal(new FaultInLoopFinder(faulting.byName).loops(faulting.fn('g')).length, 0);
});

test('a copy inside a same-file helper (nofault API, or any copy called with faults disabled) counts', async () => {
  const { byName, fn } = await lower(`
static int put_rec(char __user *out, size_t *off, const void *rec)
{
	if (copy_to_user_nofault(out + *off, rec, 32))
		return 0;
	*off += 32;
	return 1;
}

static int put_plain(char __user *out, size_t off, const void *rec)
{
	return copy_to_user(out + off, rec, 32) ? 0 : 1;
}

static long via_nofault(char __user *out, size_t n, const void *rec)
{
	size_t off = 0;

	while (off < n) {
		if (!put_rec(out, &off, rec) && fault_in_writeable(out + off, n - off))
			return -EFAULT;
	}
	return 0;
}

static long via_disabled(char __user *out, size_t n, const void *rec)
{
	size_t off = 0;
	int ok;

	while (off < n) {
		pagefault_disable();
		ok = put_plain(out, off, rec);
		pagefault_enable();
		if (ok)
			off += 32;
		else if (fault_in_writeable(out + off, n - off))
			return -EFAULT;
	}
	return 0;
}`);
  const finder = new FaultInLoopFinder(byName);
  const a = finder.loops(fn('via_nofault'));
  assert.equal(a.length, 1);
  assert.equal(a[0].copies[0].helper, 'put_rec');
  assert.equal(a[0].copies[0].how, 'nofault-api');
  assert.ok(a[0].progress.includes('off'), 'the helper handed &off advances it');
  const b = finder.loops(fn('via_disabled'));
  assert.equal(b.length, 1);
  assert.equal(b[0].copies[0].helper, 'put_plain');
  assert.equal(b[0].copies[0].how, 'pagefault-disabled');
});

test('how a fault-in result is read', async () => {
  const { fn } = await lower(`
static void uses(char __user *p, size_t n)
{
	size_t w = n;
	long r;

	fault_in_writeable(p, n);
	if (fault_in_writeable(p, n))
		return;
	if (fault_in_writeable(p, n) == n)
		return;
	r = fault_in_pages_writeable(p, n);
	if (r < 0)
		return;
	w -= fault_in_readable(p, w);
	if (w)
		return;
}`);
  const calls = fn('uses').blocks.flatMap((b) => b.stmts).filter((s): s is CallStmt => s.kind === 'call');
  assert.deepEqual(calls.map((c) => resultUse(fn('uses'), c)), ['ignored', 'truth-test', 'compared', 'errno-test', 'arithmetic']);
});

test('what a helper does with the caller offset on a short copy: rewinds or keeps the progress', async () => {
  const rewind = await lower(fixture('uaccess-livelock/search-records-rewind.c'));
  const l = new FaultInLoopFinder(rewind.byName).loops(rewind.fn('demo_search_ioctl'));
  assert.equal(l[0].copies[0].onShortCopy, 'rewinds');
  assert.deepEqual(l[0].progress, ['num_found', 'sk_offset']);
  const again = await lower(fixture('uaccess-livelock/goto-again-records.c'));
  assert.equal(new FaultInLoopFinder(again.byName).loops(again.fn('demo_dump_entries'))[0].copies[0].onShortCopy, 'rewinds');
  const keeps = await lower(`
static int put_rec(char __user *out, size_t *off, const void *rec)
{
	if (copy_to_user_nofault(out + *off, rec, 32))
		return 0;
	*off += 32;
	return 1;
}

static long fill(char __user *out, size_t n, const void *rec)
{
	size_t off = 0;

	while (off < n)
		if (!put_rec(out, &off, rec) && fault_in_writeable(out + off, n - off))
			return -EFAULT;
	return 0;
}`);
  assert.equal(new FaultInLoopFinder(keeps.byName).loops(keeps.fn('fill'))[0].copies[0].onShortCopy, 'keeps-progress');
});
