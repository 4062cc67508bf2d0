// Throughput of blank + parse + lower on a synthetic kernel-style file. Prints figures (never
// asserts timings: CI machines vary) and checks the work was actually done.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getParser } from './helpers';
import { lowerTree } from '../../../engine/lower/index';
import { blankKernelMacros } from '../../../engine/syntax/macros';

const UNIT = `
/*
 * foo_pin_user_range%N% - pin a user range for device access
 * @ctx: the device context
 * @start: first user address
 *
 * Returns the number of pages pinned or a negative errno.
 */
static long __must_check foo_pin_user_range%N%(struct foo_ctx *ctx, unsigned long start,
					   unsigned long len, struct page **pages)
{
	unsigned long nr = DIV_ROUND_UP(len + offset_in_page(start), PAGE_SIZE);
	long pinned = 0, ret;
	int i;

	if (unlikely(!access_ok((void __user *)start, len)))
		return -EFAULT;

	mmap_read_lock(ctx->mm);
	while (pinned < nr) {
		ret = pin_user_pages(start + pinned * PAGE_SIZE, nr - pinned,
				     FOLL_WRITE | FOLL_LONGTERM, pages + pinned);
		if (ret <= 0)
			break;
		pinned += ret;
	}
	mmap_read_unlock(ctx->mm);

	if (pinned != nr) {
		for (i = 0; i < pinned; i++)
			unpin_user_page(pages[i]);
		return ret < 0 ? ret : -EFAULT;
	}
	return pinned;
}

static int foo_copy_out%N%(struct foo_ctx *ctx, char __user *ubuf, size_t count)
{
	size_t copied = 0;
	int err = 0;

	while (copied < count) {
		size_t chunk = min_t(size_t, count - copied, PAGE_SIZE);
		size_t left;

		pagefault_disable();
		left = __copy_to_user_inatomic(ubuf + copied, ctx->buf + copied, chunk);
		pagefault_enable();
		if (left) {
			if (fault_in_writeable(ubuf + copied, chunk) == chunk) {
				err = -EFAULT;
				break;
			}
			continue;
		}
		copied += chunk;
	}
	switch (ctx->mode) {
	case FOO_MODE_A:
		foo_mode_a(ctx);
		fallthrough;
	case FOO_MODE_B:
		foo_mode_b(ctx);
		break;
	default:
		break;
	}
	list_for_each_entry(ctx->cur, &ctx->list, node) {
		if (ctx->cur->busy)
			goto out;
	}
out:
	return err ? err : copied;
}
`;

test('blank + parse + lower throughput (printed)', async () => {
  const parser = await getParser();
  let text = '#include <linux/mm.h>\n#include <linux/uaccess.h>\n';
  let units = 0;
  while (text.split('\n').length < 5000) text += UNIT.replace(/%N%/g, String(units++));
  const lines = text.split('\n').length;
  // Several rounds (the first ones warm up the JIT); the best round is what we report.
  let best = { blank: 0, parse: 0, lower: 0, total: Infinity, cpu: 0 };
  for (let round = 0; round < 5; round++) {
    // CPU time as well as wall time: on a loaded machine wall time mostly measures the others.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const blanked = blankKernelMacros(text);
    const t1 = performance.now();
    const tree = parser.parse(blanked);
    const t2 = performance.now();
    const ir = lowerTree(tree, blanked);
    const t3 = performance.now();
    const c1 = process.cpuUsage(c0);
    tree.delete();
    assert.equal(ir.functions.length, units * 2);
    assert.deepEqual(ir.syntaxErrors, []);
    for (const f of ir.functions) assert.deepEqual(f.degraded, [], f.name);
    if (t3 - t0 < best.total) best = { blank: t1 - t0, parse: t2 - t1, lower: t3 - t2, total: t3 - t0, cpu: (c1.user + c1.system) / 1000 };
  }
  console.log(
    `${lines} lines: blank ${best.blank.toFixed(1)} ms, parse ${best.parse.toFixed(1)} ms, lower ${best.lower.toFixed(1)} ms, ` +
      `total ${best.total.toFixed(1)} ms (cpu ${best.cpu.toFixed(1)} ms) = ${(lines / best.total).toFixed(0)}k lines/s, ` +
      `${((best.total / lines) * 100).toFixed(2)} ms per 100 lines`,
  );
});
