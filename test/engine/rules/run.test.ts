import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import { allRules, ruleById } from '../../../engine/rules/registry';
import type { Rule } from '../../../engine/rules/types';
import { parseAnnotations } from '../../../engine/rules/annotations';

let parser: Promise<CParser> | undefined;
async function check(text: string, opts?: Parameters<typeof runRules>[2]) {
  parser ??= loadCParser();
  const ir = lowerC(await parser, text);
  return runRules(ir, text, opts).map((f) => `${f.range.startRow + 1}:${f.rule}`);
}

const LEAKY = `static int leaky(unsigned long uaddr, int nr)
{
	struct page *pages[8];
	int got;

	got = pin_user_pages_fast(uaddr, nr, 0, pages);
	if (got < nr)
		return -EFAULT;
	unpin_user_pages(pages, got);
	return 0;
}
`;

test('registry is sorted by id, has the four GUP rules, and ruleById finds them', () => {
  const ids = allRules.map((r) => r.meta.id);
  assert.deepEqual(ids, [...ids].sort());
  for (const id of ['gup-leak', 'gup-release-mismatch', 'gup-partial-release', 'gup-double-release']) {
    const r = ruleById(id);
    assert.ok(r, id);
    assert.equal(r.meta.docs, `docs/rules/${id}.md`);
    assert.equal(r.meta.severity, 'error');
  }
  assert.equal(ruleById('no-such-rule'), undefined);
});

test('findings carry the rule, severity, function and related acquisition site', async () => {
  parser ??= loadCParser();
  const ir = lowerC(await parser, LEAKY);
  const [f, ...rest] = runRules(ir, LEAKY);
  assert.equal(rest.length, 0);
  assert.equal(f.rule, 'gup-leak');
  assert.equal(f.severity, 'error');
  assert.equal(f.function, 'leaky');
  assert.equal(f.range.startRow, 7);
  assert.match(f.message, /pin_user_pages_fast\(\) into `pages` at line 6/);
  assert.match(f.message, /got < nr branch at line 7/);
  assert.equal(f.related[0].range.startRow, 5);
});

test('--rule selection runs only the selected rules', async () => {
  assert.deepEqual(await check(LEAKY, { rules: ['gup-release-mismatch'] }), []);
  assert.deepEqual(await check(LEAKY, { rules: ['gup-leak'] }), ['8:gup-leak']);
});

test('suppress with a reason on the line or the line above silences the finding', async () => {
  const same = LEAKY.replace('return -EFAULT;', 'return -EFAULT; // @faultline suppress gup-leak: caller unpins');
  assert.deepEqual(await check(same), []);
  const above = LEAKY.replace('\t\treturn -EFAULT;', '\t\t/* @faultline suppress gup-partial-release,gup-leak: caller unpins */\n\t\treturn -EFAULT;');
  assert.deepEqual(await check(above), []);
  const otherRule = LEAKY.replace('return -EFAULT;', 'return -EFAULT; // @faultline suppress gup-double-release: n/a');
  assert.deepEqual(await check(otherRule), ['8:gup-leak']);
});

test('a suppression without a reason still suppresses but is itself reported', async () => {
  const text = LEAKY.replace('return -EFAULT;', 'return -EFAULT; // @faultline suppress gup-leak');
  assert.deepEqual(await check(text), ['8:annotation']);
});

test('expect annotations: met expectations are quiet, unmet ones say what was found', async () => {
  const ok = `// @faultline expect gup-leak\n${LEAKY}`;
  assert.deepEqual(await check(ok), ['9:gup-leak']);
  parser ??= loadCParser();
  const wrong = `// @faultline expect clean\n${LEAKY}`;
  const ir = lowerC(await parser, wrong);
  const fs = runRules(ir, wrong);
  const ann = fs.find((f) => f.rule === 'annotation');
  assert.ok(ann);
  assert.equal(ann.range.startRow, 0);
  assert.match(ann.message, /expected clean, found gup-leak/);
  const missing = `// @faultline expect gup-double-release\n${LEAKY.replace('if (got < nr)', 'if (got <= 0)')}`;
  const got = await check(missing);
  assert.deepEqual(got, ['1:annotation']);
});

test('a rule that throws becomes an info-level degraded note, other rules still run', async () => {
  const boom: Rule = { meta: { id: 'zz-boom', severity: 'error', title: 't', docs: 'docs/x.md', description: 'd' }, check() { throw new Error('kaput'); } };
  allRules.push(boom);
  try {
    parser ??= loadCParser();
    const ir = lowerC(await parser, LEAKY);
    const fs = runRules(ir, LEAKY);
    const note = fs.find((f) => f.rule === 'degraded');
    assert.ok(note);
    assert.equal(note.severity, 'info');
    assert.match(note.message, /zz-boom could not check leaky\(\): kaput/);
    assert.ok(fs.some((f) => f.rule === 'gup-leak'));
  } finally {
    allRules.pop();
  }
});

test('cancellation returns early without throwing', async () => {
  assert.deepEqual(await check(LEAKY, { cancelled: () => true }), []);
});

test('annotation parser: only inside comments, several ids, clean', () => {
  const a = parseAnnotations('int x; // @faultline suppress a-b, c-d: because\nchar *s = "@faultline suppress x: y";\n/* @faultline expect clean */\n');
  assert.equal(a.length, 2);
  assert.deepEqual(a[0].kind === 'suppress' && [a[0].rules, a[0].reason], [['a-b', 'c-d'], 'because']);
  assert.deepEqual(a[1].kind === 'expect' && a[1].rules, []);
});
