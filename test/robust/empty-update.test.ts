// A half-typed update in a loop header (`k,++`) lowers to an update with no variable name; the
// GUP analysis then looked for the empty name in the text, and `indexOf('', i)` never runs past
// the end of a string: the analysis never returned (fuzz seed 41 #5033, a mutated fixture). The
// test's timeout stands for "never returns" (the fixed analysis takes milliseconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../engine/engine';

const TEXT = `static int demo_fill(unsigned long uaddr, struct page **pages, int n)
{
	int got, k;

	got = pin_user_pages_fast(uaddr, n, FOLL_WRITE, pages);
	if (got <= 0)
		return -EFAULT;
	for (k = 0; k < got; k,++)
		demo_touch(pages[k]);
	unpin_user_pages(pages, got);
	return 0;
}
`;

test('a loop update with no operand (`k,++`) does not stop the GUP analysis from returning', { timeout: 30_000 }, async () => {
  const e = await createEngine();
  for (const skipIrrelevant of [false, true]) {
    const r = e.analyze(TEXT, { path: 'demo.c', skipIrrelevant });
    r.tree?.delete();
    assert.ok(r.file && r.file.functions.some((f) => f.name === 'demo_fill'));
    assert.deepEqual(r.findings.filter((f) => f.rule === 'degraded'), []);
  }
});
