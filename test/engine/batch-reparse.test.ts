// The batch path keeps the blanked text's tree when every syntax error lies inside a kept,
// balanced top-level item (engine.ts errorsStayInside): a function, one with a preprocessor line
// inside, or a declaration; an item under a file-scope `#ifdef` counts like one at the top level.
// Findings are those of the whole text either way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchReparses, batchWholeFirst, createEngine } from '../../engine/engine';
import { parseDefaultsForTests } from '../../engine/syntax/parser';
import { treeNodes } from '../helpers/tree-nodes';

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

async function reparses(text: string): Promise<{ reparsed: number; same: boolean; wholeFirst: number; findings: number }> {
  const e = await createEngine();
  const whole = e.analyzeC(text, { path: 'cfg.c' });
  const before = batchReparses.count;
  const wholeBefore = batchWholeFirst.count;
  const fast = e.analyzeC(text, { path: 'cfg.c', skipIrrelevant: true });
  const reparsed = batchReparses.count - before;
  const wholeFirst = batchWholeFirst.count - wholeBefore;
  const pick = (r: typeof whole) => r.findings.map((f) => [f.rule, f.range.start, f.message]);
  const same = JSON.stringify(pick(whole)) === JSON.stringify(pick(fast));
  // A batch parse that went back to the whole text (from the blanked text's tree, incrementally)
  // gives the tree of the whole text parsed from scratch, node for node.
  if (reparsed) assert.deepEqual(treeNodes(fast.tree!), treeNodes(whole.tree!), 'the reparsed tree differs from the whole-text parse');
  whole.tree?.delete();
  fast.tree?.delete();
  return { reparsed, same, wholeFirst, findings: whole.findings.length };
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

// An ops table whose members sit under #ifdef: the grammar reads the directives inside the
// initializer as errors, all inside the declaration.
const OPS = `
static const struct file_operations cfgdemo_fops = {
	.owner = THIS_MODULE,
#ifdef CONFIG_COMPAT
	.compat_ioctl = cfgdemo_compat_ioctl,
#endif
	.unlocked_ioctl = cfgdemo_ioctl,
};
`;

// A function whose condition is split by #ifdef (an error inside it, next to a directive).
const SPLIT = `
static long cfgdemo_split(unsigned long uaddr, int flags)
{
	struct page *pg;
	long got;

	got = pin_user_pages_fast(uaddr, 1, FOLL_WRITE, &pg);
#ifdef CONFIG_CFGDEMO_STRICT
	if (got != 1 || flags)
#else
	if (got != 1)
#endif
		return -EFAULT;
	return 0;
}
`;

test('an error inside a kept declaration keeps the blanked tree; inside a function with #ifdef inside it does not', async () => {
  const ops = await reparses(`${FILLER}\n${OPS}\n${KEPT}\n`);
  assert.equal(ops.reparsed, 0);
  assert.ok(ops.same);
  // Around #if in a body the recovery can depend on what follows the function (on Linux 6.1 it
  // ran into the next function in the whole text): the whole text is parsed.
  const split = await reparses(`${FILLER}\n${SPLIT}\n${FILLER.replace('cfgdemo_sum', 'cfgdemo_sum2')}\n`);
  assert.equal(split.reparsed, 1);
  assert.ok(split.same);
});

test('text that is mostly kept, with functions the scan cannot vouch for, is parsed whole at once', async () => {
  // Three functions with #ifdef inside and one small blanked one: the blanked parse would read
  // most of the text and likely be followed by the whole one (engine.ts wholeParseCheaper).
  const splits = [1, 2, 3].map((k) => SPLIT.replace('cfgdemo_split', `cfgdemo_split${k}`)).join('\n');
  const most = await reparses(`${FILLER}\n${splits}\n`);
  assert.equal(most.wholeFirst, 1);
  assert.equal(most.reparsed, 0);
  assert.ok(most.same);
  assert.ok(most.findings > 0, 'the functions have findings to compare');
  // One such function among many blanked ones: the blanked parse is cheap, it goes first.
  const fillers = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => FILLER.replace('cfgdemo_sum', `cfgdemo_sum${k}`)).join('\n');
  const few = await reparses(`${fillers}\n${SPLIT}\n`);
  assert.equal(few.wholeFirst, 0);
  assert.equal(few.reparsed, 1);
  assert.ok(few.same);
  // Nothing unsure: never whole at once, however much is kept.
  const sure = await reparses(`${FILLER}\n${KEPT}\n${KEPT.replace('cfgdemo_pin', 'cfgdemo_pin2')}\n`);
  assert.equal(sure.wholeFirst, 0);
  assert.ok(sure.same);
});

test('a declaration that does not end where the scan ends it still parses the whole text', async () => {
  // No `;`: the scan's item runs on to the next one, the tree's declaration does not.
  const r = await reparses(`${FILLER}\nstatic int cfgdemo_bad = cfgdemo_init(1)\n${KEPT}\n`);
  assert.equal(r.reparsed, 1);
  assert.ok(r.same);
});

// A function made by a macro: the grammar reads `CFGDEMO_DEFINE2(...)` as a call missing its `;`
// and the body as a block at file scope; both lie within the scan's item. After an #include line
// (whose node takes the newline the item starts with).
const MACRO_MADE = `#include <linux/uaccess.h>
CFGDEMO_DEFINE2(cfgdemo_get, unsigned long, uaddr, int, flags)
{
	struct page *pg;

	if (pin_user_pages_fast(uaddr, 1, FOLL_WRITE, &pg) != 1)
		return -EFAULT;
	return flags;
}
`;

test('an error inside a macro-made function after a directive keeps the blanked tree', async () => {
  const r = await reparses(`${FILLER}\n${MACRO_MADE}\n${FILLER.replace('cfgdemo_sum', 'cfgdemo_sum2')}\n`);
  assert.equal(r.reparsed, 0);
  assert.ok(r.same);
});

test('an ERROR node at the top level still parses the whole text', async () => {
  // The recovery itself is the top-level node: nothing vouches for where it ends.
  const r = await reparses(`${FILLER}\n? cfgdemo_x;\n${KEPT}\n`);
  assert.equal(r.reparsed, 1);
  assert.ok(r.same);
  // Two nodes inside one balanced item, the second ending at its end: kept.
  const two = await reparses(`${FILLER}\nint cfgdemo_a cfgdemo_b cfgdemo_c;\n${KEPT}\n`);
  assert.equal(two.reparsed, 0);
  assert.ok(two.same);
});

test('the bracket-nesting bound is decided on the whole text: a blanked-away function nested past it stops the batch parse too', async () => {
  const engine = await createEngine();
  // An irrelevant function nested 60 deep, under a bound of 50 (the real one is 10,000 levels).
  const deep = `\nstatic int cfgdemo_deep(int a)\n{\n\treturn ${'('.repeat(60)}a${')'.repeat(60)};\n}\n`;
  const text = FILLER + deep + KEPT;
  const before = parseDefaultsForTests.maxNesting;
  parseDefaultsForTests.maxNesting = 50;
  try {
    const whole = engine.analyze(text, { path: 'cfgdemo.c' });
    const batch = engine.analyze(text, { path: 'cfgdemo.c', skipIrrelevant: true });
    whole.tree?.delete();
    batch.tree?.delete();
    assert.ok(whole.findings.some((f) => f.rule === 'budget' && /nesting bound \(50 levels\)/.test(f.message)), JSON.stringify(whole.findings.map((f) => f.message)));
    assert.deepEqual(batch.findings, whole.findings);
  } finally {
    parseDefaultsForTests.maxNesting = before;
  }
});
