// iomap_iter() (API table `rounds`, fs/iomap/iter.c of v6.1): the loop
// `while ((ret = iomap_iter(&iter, ops)) > 0) iter.processed = body(&iter, ...);` gets another
// round only after a round that processed something; a round that processed nothing ends it
// (unless the mapping went stale), a failed round hands back its errno. Before the model, the
// result was an unknown call the adversary chose, so the loop could go on forever: 6.1's
// iomap_file_buffered_write() ran out of its state budget, and outer loops around a helper's
// fault-in retry were reported as live-locks that the kernel cannot run into.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateFunction } from '../../../engine/sim/simulate-function';
import { runScenario } from '../../../engine/sim/scenario';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { repoRoot } from '../../helpers/repo';

/**
 * Runs `demo_rounds` on x86_64 (no user buffer). A condition in the C that must never hold runs
 * pagefault_enable() with nothing to enable: the verdict is 'underflow' when some adversary
 * choice makes it hold, 'ok' when none does.
 */
async function verdict(body: string): Promise<string> {
  const parser = await loadCParser();
  const text = `
static void demo_rounds(const struct iomap_ops *ops)
{
	struct iomap_iter it = { .len = 64 };
	int ret;

${body}
}
`;
  const ir = lowerC(parser, text);
  return runScenario({
    name: 'rounds', title: 'from C', source: 'test', side: 'before', oracle: 'any', fromC: true,
    functions: ir.functions, threads: [{ fn: 'demo_rounds', args: [0x100000] }], globals: {},
    layout: { vmas: [] }, expect: {},
  }, { arch: 'x86_64' }).verdict;
}

const FIRST = `	ret = iomap_iter(&it, ops);`;
/** A first round that got a mapping, then a round that processed `n`. */
const AFTER = (n: string) => `${FIRST}
	if (ret != 1)
		return;
	it.processed = ${n};
	ret = iomap_iter(&it, ops);`;

test('iomap_iter(): the first call is a mapping (1) or an ->iomap_begin() errno, both reachable', async () => {
  assert.equal(await verdict(`${FIRST}\n\tif (ret != 1 && ret != -EIO)\n\t\tpagefault_enable();`), 'ok');
  assert.equal(await verdict(`${FIRST}\n\tif (ret == 1)\n\t\tpagefault_enable();`), 'underflow');
  assert.equal(await verdict(`${FIRST}\n\tif (ret == -EIO)\n\t\tpagefault_enable();`), 'underflow');
});

test('iomap_iter(): after a round with progress, another round (1), the range used up (0) or an errno', async () => {
  assert.equal(await verdict(`${AFTER('5')}\n\tif (ret != 1 && ret != 0 && ret != -EIO)\n\t\tpagefault_enable();`), 'ok');
  for (const v of ['1', '0', '-EIO']) assert.equal(await verdict(`${AFTER('5')}\n\tif (ret == ${v})\n\t\tpagefault_enable();`), 'underflow', v);
  // A new round starts with the result cleared, as iomap_iter_advance() does.
  assert.equal(await verdict(`${AFTER('5')}\n\tif (ret == 1 && it.processed != 0)\n\t\tpagefault_enable();`), 'ok');
});

test('iomap_iter(): a round that processed nothing ends the iteration; a failed round hands back its errno', async () => {
  assert.equal(await verdict(`${AFTER('0')}\n\tif (ret > 0)\n\t\tpagefault_enable();`), 'ok');
  // ->iomap_end() may fail then: 0 or an errno, both ending the loop.
  assert.equal(await verdict(`${AFTER('0')}\n\tif (ret == 0)\n\t\tpagefault_enable();`), 'underflow');
  assert.equal(await verdict(`${AFTER('-EINVAL')}\n\tif (ret != -EINVAL)\n\t\tpagefault_enable();`), 'ok');
});

test('iomap_iter(): a round that processed nothing on a stale mapping maps the range again', async () => {
  const stale = `${FIRST}
	if (ret != 1)
		return;
	it.iomap.flags = it.iomap.flags | IOMAP_F_STALE;
	it.processed = 0;
	ret = iomap_iter(&it, ops);`;
  assert.equal(await verdict(`${stale}\n\tif (ret != 1 && ret != -EIO)\n\t\tpagefault_enable();`), 'ok');
  assert.equal(await verdict(`${stale}\n\tif (ret == 1)\n\t\tpagefault_enable();`), 'underflow');
  // The new mapping is not stale (the kernel clears the iomap for the next round).
  assert.equal(await verdict(`${stale}\n\tif (ret == 1 && (it.iomap.flags & IOMAP_F_STALE))\n\t\tpagefault_enable();`), 'ok');
});

test('iomap_iter(): when the caller does not store the round\'s result itself, the model cannot see it and the adversary chooses', async () => {
  // The helper stores through its pointer, a frame the model keeps apart: the caller's
  // iomap_iter() cannot read what the round did, so even a round that processed nothing may go on.
  const parser = await loadCParser();
  const text = `
static void demo_round(struct iomap_iter *iter)
{
	iter->processed = 0;
}

static void demo_rounds(const struct iomap_ops *ops)
{
	struct iomap_iter it = { .len = 64 };
	int ret;

	ret = iomap_iter(&it, ops);
	if (ret != 1)
		return;
	demo_round(&it);
	ret = iomap_iter(&it, ops);
	if (ret == 1)
		pagefault_enable();
}
`;
  const ir = lowerC(parser, text);
  const v = runScenario({
    name: 'rounds', title: 'from C', source: 'test', side: 'before', oracle: 'any', fromC: true,
    functions: ir.functions, threads: [{ fn: 'demo_rounds', args: [0x100000] }], globals: {},
    layout: { vmas: [] }, expect: {},
  }, { arch: 'x86_64' }).verdict;
  assert.equal(v, 'underflow');
});

// Our own buffered write in the shape of 6.1's iomap_file_buffered_write() around a helper that
// faults the source in and retries (test/fixtures/uaccess-livelock/silent-iomap-write-rounds.c).
// With iomap_iter() an unknown call the adversary kept the outer loop going, the helper's copies
// restarting from the caller's iterator, and the rounds were reported as a live-lock on every
// profile; now each profile ends ok, well within the default budget.
test('an iomap-style outer loop around a helper\'s fault-in retry finishes ok on every profile, within the budget', async () => {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock', 'silent-iomap-write-rounds.c'), 'utf8');
  const r = await simulateFunction(text, 'demo_buffered_write', { arch: 'all' });
  assert.equal(r.error, undefined);
  assert.deepEqual(r.profiles.map((p) => p.verdict), ['ok', 'ok', 'ok'], JSON.stringify(r.profiles));
  assert.equal(r.bound, undefined);
  assert.ok(r.statesExplored < 10000, `${r.statesExplored} states`);
  for (const p of r.profiles) assert.match(p.covered ?? '', /every layout and adversary choice/);
});
