// The batch path keeps the blanked text's tree when every syntax error lies inside a kept
// function (engine.ts errorsStayInside); a function under a file-scope `#ifdef` counts like one
// at the top level. Findings are those of the whole text either way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchReparses, createEngine } from '../../engine/engine';

const FILLER = `
static int cfgdemo_sum(const int *v, int n)
{
	int i, s = 0;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}
`;

// A kernel loop macro the grammar does not know (an error inside the function), under #ifdef.
const KEPT = `
static long cfgdemo_pin(unsigned long uaddr, struct list_head *head)
{
	struct page *pg;
	struct cfgdemo_item *it;
	long got;

	got = pin_user_pages_fast(uaddr, 1, FOLL_WRITE, &pg);
	if (got != 1)
		return -EFAULT;
	list_for_each_entry(it, head, node) {
		if (it->busy)
			return -EBUSY;
	}
	unpin_user_page(pg);
	return 0;
}
`;

async function reparses(text: string): Promise<{ reparsed: number; same: boolean }> {
  const e = await createEngine();
  const whole = e.analyzeC(text, { path: 'cfg.c' });
  const before = batchReparses.count;
  const fast = e.analyzeC(text, { path: 'cfg.c', skipIrrelevant: true });
  const reparsed = batchReparses.count - before;
  const pick = (r: typeof whole) => r.findings.map((f) => [f.rule, f.range.start, f.message]);
  const same = JSON.stringify(pick(whole)) === JSON.stringify(pick(fast));
  whole.tree?.delete();
  fast.tree?.delete();
  return { reparsed, same };
}

test('an error inside a kept function under #ifdef keeps the blanked tree', async () => {
  const r = await reparses(`#include <linux/mm.h>\n${FILLER}\n#ifdef CONFIG_CFGDEMO\n${KEPT}\n#endif\n`);
  assert.equal(r.reparsed, 0);
  assert.ok(r.same);
  // Nested blocks and an #else branch too.
  const nested = await reparses(`${FILLER}\n#ifdef CONFIG_A\n#if CONFIG_B > 1\n${KEPT}\n#endif\n#else\nstatic int cfgdemo_off;\n#endif\n`);
  assert.equal(nested.reparsed, 0);
  assert.ok(nested.same);
});

test('an error in the #ifdef block outside a kept function still parses the whole text', async () => {
  // A broken declaration next to the function, inside the same block.
  const r = await reparses(`${FILLER}\n#ifdef CONFIG_CFGDEMO\nstatic int cfgdemo_bad = (1 + ;\n${KEPT}\n#endif\n`);
  assert.equal(r.reparsed, 1);
  assert.ok(r.same);
  // A block whose #endif is missing.
  const open = await reparses(`${FILLER}\n#ifdef CONFIG_CFGDEMO\n${KEPT}\n`);
  assert.equal(open.reparsed, 1);
  assert.ok(open.same);
});
