// Verdicts that mean what they say (issue 8) and preconditions (issue 11 item 7): unknown
// results are adversary choices over what the code tests, buffer lengths come from the guards,
// `ok` needs the copy reached, live-locks are found over the whole explored graph, a lock or
// reference released without being taken is the caller's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateFunction } from '../../../engine/sim/simulate-function';
import { isFaultInCycle } from '../../../engine/sim/from-c/run';

// The copy is reached only when an unknown count is at least 4 and the buffer at least 512
// bytes: a fixed havoc result (0) and a fixed 256-byte length both return before the loop.
const GUARDED = `
static long demo_dump_records(struct demo_index *ix, char __user *ubuf, size_t size)
{
	unsigned long off = 0;
	long ret;

	if (size < 512)
		return -EINVAL;
	if (demo_index_count(ix) < 4)
		return 0;
	while (1) {
		ret = -EFAULT;
		if (fault_in_writeable(ubuf + off, size - off))
			break;
		if (copy_to_user_nofault(ubuf + off, ix, 32))
			continue;
		off += 32;
		if (off + 32 > size) {
			ret = 0;
			break;
		}
	}
	return ret;
}
`;

test('guards on the length and on an unknown result are passed: live-lock on arm64-mte, ok elsewhere', async () => {
  const r = await simulateFunction(GUARDED, 'demo_dump_records');
  assert.deepEqual(r.profiles.map((p) => [p.arch, p.verdict]), [['x86_64', 'ok'], ['arm64', 'ok'], ['arm64-mte', 'livelock']]);
  assert.match(r.choice ?? '', /^51[23]-byte buffer/, 'a length that passes `size < 512`');
  const pick = r.steps.find((s) => s.facts?.choice?.of === 'demo_index_count()');
  assert.ok(pick && pick.facts!.choice!.value >= 4, 'the adversary picked a count that passes `< 4`');
  assert.match(pick!.note ?? '', /each side of 4/);
  assert.ok(isFaultInCycle(r.steps), 'typed facts: a faulted copy and a fault-in in the repeating part');
  assert.ok(r.steps.some((s) => s.facts?.sameState));
});

test('ok only when the copy was reached: a loop behind a guard no chosen length passes is inconclusive', async () => {
  const never = `
static long demo_big_only(char __user *ubuf, size_t size, const void *rec)
{
	if (size <= 0x100000)
		return -E2BIG;
	while (copy_to_user_nofault(ubuf, rec, 32))
		if (fault_in_writeable(ubuf, 32))
			return -EFAULT;
	return 0;
}
`;
  const r = await simulateFunction(never, 'demo_big_only', { arch: 'x86_64' });
  assert.equal(r.verdict, 'inconclusive');
  assert.equal(r.bound, 'copy not reached');
  assert.match(r.note, /no run reached a user copy/);
});

test('a live-lock whose cycle needs two branches of the loop is found over the explored graph', async () => {
  // Each lap alone repeats a state (only the fault-in, or only the failed copy) and is not a
  // fault-in live-lock; alternating them is: the adversary can choose the phase every time.
  const alternating = `
static long demo_phased(struct demo_dev *d, char __user *ubuf, size_t len)
{
	while (1) {
		if (demo_phase(d)) {
			if (fault_in_writeable(ubuf, len))
				return -EFAULT;
		} else if (copy_to_user_nofault(ubuf, d, 32))
			continue;
		else
			return 0;
	}
}
`;
  const r = await simulateFunction(alternating, 'demo_phased', { arch: 'arm64-mte' });
  assert.equal(r.verdict, 'livelock');
  const again = r.steps.filter((s) => s.facts?.cycle === 'again');
  assert.ok(again.some((s) => s.facts?.faultIn) && again.some((s) => s.facts?.copy?.faultAt !== undefined));
  const x86 = await simulateFunction(alternating, 'demo_phased', { arch: 'x86_64' });
  assert.equal(x86.verdict, 'ok');
});

test('budgets count states: the same input gives the same verdict and figures every time', async () => {
  const a = await simulateFunction(GUARDED, 'demo_dump_records', { maxStates: 40 });
  const b = await simulateFunction(GUARDED, 'demo_dump_records', { maxStates: 40 });
  assert.deepEqual([a.verdict, a.statesExplored, a.bound], [b.verdict, b.statesExplored, b.bound]);
});

test('a lock the function releases without taking it is its caller\'s (precondition), not an underflow', async () => {
  const dropsCallers = `
static long demo_vcpu_read(struct demo_vcpu *vcpu, char __user *ubuf, const void *regs)
{
	long ret = 0;

	mutex_unlock(&vcpu->mutex);
	if (copy_to_user(ubuf, regs, 64))
		ret = -EFAULT;
	mutex_lock(&vcpu->mutex);
	return ret;
}
`;
  const r = await simulateFunction(dropsCallers, 'demo_vcpu_read', { arch: 'x86_64' });
  assert.equal(r.verdict, 'ok');
  assert.match(r.note, /assuming the caller's precondition: vcpu->mutex held by the caller/);
  // A double unlock of a mutex taken here is still an underflow.
  const twice = `
static long demo_twice(struct demo_vcpu *vcpu, char __user *ubuf, const void *regs)
{
	mutex_lock(&vcpu->mutex);
	mutex_unlock(&vcpu->mutex);
	if (copy_to_user(ubuf, regs, 64))
		return -EFAULT;
	mutex_unlock(&vcpu->mutex);
	return 0;
}
`;
  const t = await simulateFunction(twice, 'demo_twice', { arch: 'x86_64' });
  assert.equal(t.verdict, 'underflow');
});

test('a page reference the function was handed is the caller\'s; a failure resting on a precondition is inconclusive', async () => {
  const handed = `
static int demo_drop_page(struct page *page, char __user *ubuf, const void *buf)
{
	int ret = copy_to_user(ubuf, buf, 16) ? -EFAULT : 0;

	put_page(page);
	return ret;
}
`;
  const r = await simulateFunction(handed, 'demo_drop_page', { arch: 'x86_64' });
  assert.equal(r.verdict, 'ok');
  assert.match(r.note, /a reference on page held by the caller/);
  // Released twice: the second release rests on the caller holding two references.
  const twice = handed.replace('put_page(page);', 'put_page(page);\n\tspin_unlock(&demo_lock);\n\tspin_lock(&demo_lock);\n\tspin_unlock(&demo_lock);\n\tspin_unlock(&demo_lock);');
  const t = await simulateFunction(twice, 'demo_drop_page', { arch: 'x86_64' });
  assert.equal(t.verdict, 'inconclusive', 'an underflow after assuming the caller held the lock depends on that precondition');
  assert.equal(t.bound, 'precondition');
});

// The size comes from a struct copied from user space and an item limit from a struct field the
// caller passes: both are inputs the adversary chooses over what the code tests.
const FROM_USER = `
struct demo_req {
	unsigned long size;
	unsigned long limit;
	char data[];
};

static long demo_fill_user(struct demo_src *src, struct demo_req __user *ureq)
{
	struct demo_req rq;
	char __user *out = ureq->data;
	unsigned long at = 0;
	unsigned long n = 0;

	if (copy_from_user(&rq, ureq, sizeof(rq)))
		return -EFAULT;
	if (rq.size < 512)
		return -EINVAL;
	if (rq.limit == 0)
		return 0;
	while (at < rq.size) {
		if (fault_in_writeable(out + at, rq.size - at))
			return -EFAULT;
		if (copy_to_user_nofault(out + at, src, 64))
			continue;
		at += 64;
		if (++n >= rq.limit)
			break;
	}
	return at;
}
`;

test('a length and a limit read from a struct copied from user space are adversary choices over what the code tests', async () => {
  const r = await simulateFunction(FROM_USER, 'demo_fill_user');
  assert.deepEqual(r.profiles.map((p) => [p.arch, p.verdict]), [['x86_64', 'ok'], ['arm64', 'ok'], ['arm64-mte', 'livelock']]);
  assert.match(r.choice ?? '', /^51[23]-byte buffer/, 'a size that passes `rq.size < 512`');
  const limit = r.steps.find((s) => s.facts?.choice?.of === 'rq.limit');
  assert.ok(limit && limit.facts!.choice!.value > 0, 'the adversary picked a limit that passes `rq.limit == 0`');
  assert.match(limit!.note ?? '', /caller's input: each side of 0/);
});

test('with a fault-in loop, ok needs the retried (nofault) copy reached: a copy_from_user of the arguments is not enough', async () => {
  // The loop sits behind a flag no input reaches (a havoc'd local, not an input): only the
  // argument copy runs.
  const behind = `
static long demo_arg_only(struct demo_src *src, char __user *uarg, size_t size)
{
	struct demo_src tmp;
	unsigned long at = 0;
	int armed = 0;

	if (copy_from_user(&tmp, uarg, 16))
		return -EFAULT;
	if (!armed)
		return 0;
	while (at < size) {
		if (fault_in_writeable(uarg + at, size - at))
			return -EFAULT;
		if (copy_to_user_nofault(uarg + at, src, 64))
			continue;
		at += 64;
	}
	return at;
}
`;
  const r = await simulateFunction(behind, 'demo_arg_only');
  for (const p of r.profiles) assert.equal(p.verdict, 'inconclusive', `${p.arch}: ${r.note}`);
  assert.equal(r.bound, 'copy not reached');
  assert.match(r.note, /no run reached a user copy with page faults disabled/);
});

test('a release that drops whatever is held (btrfs_free_path after btrfs_release_path) is no underflow', async () => {
  const twice = `
static int demo_walk(struct btrfs_root *root, struct btrfs_key *key, char __user *ubuf)
{
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_forward(root, key, path, 0);
	if (ret == 0 && copy_to_user(ubuf, key, 16))
		ret = -EFAULT;
	btrfs_release_path(path);
	btrfs_free_path(path);
	return ret;
}
`;
  const r = await simulateFunction(twice, 'demo_walk');
  for (const p of r.profiles) assert.notEqual(p.verdict, 'underflow', `${p.arch}: ${r.note}`);
});

test('a page the function was handed (parameter, field, unknown lookup) and maps or dirties is the caller\'s reference, not an underflow', async () => {
  const handed = `
static int demo_fill_pages(struct demo_ctx *ctx, struct page *page, const char __user *ubuf)
{
	struct page *meta = demo_lookup_meta(ctx);
	char *dst, *m;
	unsigned long left;

	dst = kmap_atomic(page);
	left = __copy_from_user_inatomic(dst, ubuf, 64);
	kunmap_atomic(dst);
	m = kmap_atomic(ctx->meta_page);
	m[0] = 1;
	kunmap_atomic(m);
	set_page_dirty(meta);
	return left ? -EFAULT : 0;
}
`;
  const r = await simulateFunction(handed, 'demo_fill_pages');
  for (const p of r.profiles) assert.equal(p.verdict, 'ok', `${p.arch}: ${r.note}`);
  assert.match(r.note, /held by the caller/);
});

test('a single page put on a pointer the model does not track (a field) is the caller\'s reference; an unfilled GUP slot stays an underflow', async () => {
  const field = `
static int demo_drop_cached(struct demo_ctx *ctx, char __user *ubuf)
{
	struct page *pg = ctx->cached_page;
	int ret = copy_to_user(ubuf, ctx->buf, 16) ? -EFAULT : 0;

	ctx->cached_page = NULL;
	put_page(pg);
	return ret;
}
`;
  const r = await simulateFunction(field, 'demo_drop_cached', { arch: 'x86_64' });
  assert.equal(r.verdict, 'ok', r.note);
  assert.match(r.profiles[0].covered ?? '', /assuming a reference on pg held by the caller/);
  const slot = `
static int demo_pin_two(char __user *ubuf, size_t len)
{
	struct page *pages[2];
	int n;

	if (copy_to_user(ubuf, &len, sizeof(len)))
		return -EFAULT;
	n = pin_user_pages_fast((unsigned long)ubuf, 1, FOLL_WRITE, pages);
	if (n < 1)
		return -EFAULT;
	unpin_user_page(pages[0]);
	unpin_user_page(pages[1]);
	return 0;
}
`;
  const s = await simulateFunction(slot, 'demo_pin_two', { arch: 'x86_64' });
  assert.equal(s.verdict, 'underflow', s.note);
});
