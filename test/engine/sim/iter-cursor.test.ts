// A page-cache write loop whose progress is the iterator's own count (iov_iter_count(),
// iov_iter_revert() after a short ->write_end, min_t()/max() on the way): the simulator computes
// the cursor and the arithmetic (API table `iterCursor`, `arith`) instead of letting the adversary
// choose them. When they were adversary choices, `max(status, 0L)` could be -EINVAL and the
// iterator's count never ran out, so the loop below (the shape of mm/filemap.c
// generic_perform_write() in v6.1) used the whole state budget without a verdict.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateFunction } from '../../../engine/sim/simulate-function';
import { runScenario } from '../../../engine/sim/scenario';
import { userBufferGlobals } from '../../../engine/sim/interp';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';

const WRITE_LOOP = `
static ssize_t demo_perform_write(struct demo_file *df, struct iov_iter *from)
{
	loff_t pos = df->pos;
	long status = 0;
	ssize_t written = 0;

	do {
		struct page *page;
		unsigned long offset = pos & (PAGE_SIZE - 1);
		unsigned long chunk = min_t(unsigned long, PAGE_SIZE - offset, iov_iter_count(from));
		size_t copied;

retry:
		if (fault_in_iov_iter_readable(from, chunk) == chunk) {
			status = -EFAULT;
			break;
		}
		status = demo_begin_page(df, pos, chunk, &page);
		if (status < 0)
			break;
		copied = copy_page_from_iter_atomic(page, offset, chunk, from);
		status = demo_end_page(df, pos, chunk, copied, page);
		if (status != copied) {
			iov_iter_revert(from, copied - max(status, 0L));
			if (status < 0)
				break;
		}
		if (status == 0) {
			if (copied)
				chunk = copied;
			goto retry;
		}
		pos += status;
		written += status;
	} while (iov_iter_count(from));

	return written ? written : status;
}
`;

test('a write loop driven by iov_iter_count() and iov_iter_revert() finishes: ok on every profile, within the budget', async () => {
  const r = await simulateFunction(WRITE_LOOP, 'demo_perform_write', { arch: 'all' });
  assert.equal(r.error, undefined);
  assert.deepEqual(r.profiles.map((p) => p.verdict), ['ok', 'ok', 'ok'], JSON.stringify(r.profiles));
  assert.equal(r.bound, undefined);
  for (const p of r.profiles) assert.match(p.covered ?? '', /every layout and adversary choice/);
});

// Each value is checked in the C: a wrong one runs pagefault_enable() with nothing to enable, which
// the simulator reports as an underflow, so the verdict is 'ok' only when every value is right.
const CURSOR = (left: number, afterAdvance: number, afterRevert: number, atEnd: number) => `
static void demo_cursor(struct iov_iter *it)
{
	if (iov_iter_count(it) != ${left})
		pagefault_enable();
	iov_iter_advance(it, 100);
	if (iov_iter_count(it) != ${afterAdvance})
		pagefault_enable();
	iov_iter_revert(it, 1000);
	if (iov_iter_count(it) != ${afterRevert})
		pagefault_enable();
	iov_iter_advance(it, 5000);
	if (iov_iter_count(it) != ${atEnd})
		pagefault_enable();
	if (max(3, 7) != 7 || min_t(long, 4, 9) != 4 || min(4, 9) != 4 || max3(1, 8, 2) != 8)
		pagefault_enable();
	if (clamp(50, 0, 10) != 10 || clamp_t(int, -5, 0, 7) != 0 || clamp_val(3, 0, 7) != 3)
		pagefault_enable();
}
`;

test('iov_iter_count/advance/revert move a cursor within the run\'s user buffer; min/max/clamp are computed', async () => {
  const parser = await loadCParser();
  const base = 0x7f0000001000;
  const run = (text: string, globals: ReturnType<typeof userBufferGlobals>) => {
    const ir = lowerC(parser, text);
    return runScenario({
      name: 'cursor', title: 'from C', source: 'test', side: 'before', oracle: 'any', fromC: true,
      functions: ir.functions, threads: [{ fn: 'demo_cursor', args: [base] }], globals,
      layout: { vmas: [{ start: base, pages: 1, kind: 'anon' }] }, expect: {},
    }, { arch: 'x86_64' }).verdict;
  };
  // 256 left; 156 after advancing 100; reverting 1000 stops at the start; advancing 5000 stops at the end.
  assert.equal(run(CURSOR(256, 156, 256, 0), userBufferGlobals(base, 256)), 'ok');
  // The check itself can fail: one wrong expectation is an underflow.
  assert.equal(run(CURSOR(256, 157, 256, 0), userBufferGlobals(base, 256)), 'underflow');
  // With no user buffer known, an iterator has nothing left.
  assert.equal(run(CURSOR(0, 0, 0, 0), {}), 'ok');
});

// An iterator the function builds itself (a local struct iov_iter) is not the run's user buffer:
// its count stays an adversary choice, so the loop below is still entered and its live-lock on
// arm64-mte found. Computing that count as "nothing left" would skip the loop (copy not reached).
const LOCAL_ITER = `
static long demo_local_iter(struct demo_ctx *dc, char __user *ubuf, size_t len)
{
	struct iov_iter it;
	long n = 0;

	while (iov_iter_count(&it)) {
		if (fault_in_readable(ubuf, len))
			return -EFAULT;
		n = copy_from_user_nofault(dc->buf, ubuf, len);
		iov_iter_revert(&it, n);
		if (!n)
			break;
	}
	return n;
}
`;

test('the count of an iterator the model did not hand the user buffer stays an adversary choice', async () => {
  const r = await simulateFunction(LOCAL_ITER, 'demo_local_iter', { arch: 'all' });
  assert.deepEqual(r.profiles.map((p) => p.verdict), ['ok', 'ok', 'livelock'], JSON.stringify(r.profiles));
});
