// pagefault_disable() depth: per path, through helpers, with correlated branches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PagefaultAnalysis } from '../../../engine/analysis/faultin/index';
import { lower } from './helpers';

const SRC = `
static void nf_begin(void) { pagefault_disable(); }
static void nf_end(void) { pagefault_enable(); }

static int leaky(int x)
{
	pagefault_disable();
	if (x)
		return -EFAULT;
	pagefault_enable();
	return 0;
}

static int wrapped(int x)
{
	nf_begin();
	x++;
	nf_end();
	return x;
}

static int correlated(int atomic)
{
	if (atomic)
		pagefault_disable();
	atomic_work();
	if (atomic)
		pagefault_enable();
	return 0;
}

static int decorrelated(int atomic)
{
	if (atomic)
		pagefault_disable();
	atomic = other();
	if (atomic)
		pagefault_enable();
	return 0;
}

static int looped(int n)
{
	while (n--)
		pagefault_disable();
	return 0;
}
`;

test('exit depths per path, through helpers and correlated branches', async () => {
  const { byName, fn } = await lower(SRC);
  const a = new PagefaultAnalysis(byName);
  assert.deepEqual(a.facts(fn('nf_begin')).exitDepths, [1]);
  assert.deepEqual(a.facts(fn('leaky')).exitDepths, [0, 1]);
  assert.deepEqual(a.facts(fn('leaky')).returns.map((r) => r.depths), [[1], [0]]);
  assert.deepEqual(a.facts(fn('wrapped')).exitDepths, [0]);
  assert.deepEqual(a.facts(fn('correlated')).exitDepths, [0]);
  assert.deepEqual(a.facts(fn('correlated')).enableWithoutDisable, []);
  // Once the condition's variable changes, the branches are independent again: a path keeps the
  // region open, another enables with nothing open (counted as an unmatched enable, not as a
  // negative depth).
  assert.deepEqual(a.facts(fn('decorrelated')).exitDepths, [0, 1]);
  assert.equal(a.facts(fn('decorrelated')).enableWithoutDisable.length, 1);
  // A disable in a loop is clamped, not counted for ever.
  const l = a.facts(fn('looped'));
  assert.ok(!l.partial);
  assert.ok(l.exitDepths.length > 2 && Math.max(...l.exitDepths) <= 6);
});
