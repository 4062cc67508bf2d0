// Messages and quick fixes of the four GUP rules (the fixtures check lines; this checks words).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding } from '../../../engine/findings';

let parser: Promise<CParser> | undefined;
async function findings(text: string): Promise<Finding[]> {
  parser ??= loadCParser();
  return runRules(lowerC(await parser, text), text);
}

function applyFix(text: string, f: Finding): string {
  const fix = f.fixes?.[0];
  assert.ok(fix, `no fix on ${f.rule}`);
  let t = text;
  for (const e of [...fix.edits].sort((a, b) => b.range.start - a.range.start)) t = t.slice(0, e.range.start) + e.newText + t.slice(e.range.end);
  return t;
}

const MISMATCH = `static int m(unsigned long uaddr, int nr, struct page **pages)
{
	int got, i;

	got = pin_user_pages_fast(uaddr, nr, 0, pages);
	if (got <= 0)
		return -EFAULT;
	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return 0;
}
`;

test('mismatch: names kind, array and line; the fix swaps in unpin_user_page and the result is clean', async () => {
  const [f, ...rest] = await findings(MISMATCH);
  assert.equal(rest.length, 0);
  assert.equal(f.rule, 'gup-release-mismatch');
  assert.match(f.message, /`pages` were pinned \(FOLL_PIN\) by pin_user_pages_fast\(\) at line 5 but are released with put_page\(\)/);
  assert.match(f.message, /1023 of its 1024/);
  assert.deepEqual(f.related.map((r) => r.range.startRow), [4, 8]);
  const fixed = applyFix(MISMATCH, f);
  assert.match(fixed, /unpin_user_page\(pages\[i\]\)/);
  assert.deepEqual(await findings(fixed), []);
});

test('mismatch the other way: FOLL_GET pages with unpin_user_pages, fixed with release_pages', async () => {
  const text = MISMATCH.replace('pin_user_pages_fast', 'get_user_pages_fast').replace('for (i = 0; i < got; i++)\n\t\tput_page(pages[i]);', 'unpin_user_pages(pages, got);');
  const [f] = await findings(text);
  assert.equal(f.rule, 'gup-release-mismatch');
  assert.match(f.message, /referenced \(FOLL_GET\).*underflow; use release_pages\(\)/);
  assert.deepEqual(await findings(applyFix(text, f)), []);
});

test('partial release: the fix replaces the requested count with the returned one, in calls and loop headers', async () => {
  const call = MISMATCH.replace('pin_user_pages_fast', 'get_user_pages_fast').replace('for (i = 0; i < got; i++)\n\t\tput_page(pages[i]);', 'release_pages(pages, nr);');
  const [f] = await findings(call);
  assert.equal(f.rule, 'gup-partial-release');
  assert.match(f.message, /release_pages\(\) with `nr` releases the requested count, but get_user_pages_fast\(\) at line 5 may have taken fewer pages into `pages` \(it returns the number taken in `got`\)/);
  assert.deepEqual(await findings(applyFix(call, f)), []);
  const loop = MISMATCH.replace('pin_user_pages_fast', 'get_user_pages_fast').replace('i < got', 'i < nr');
  const [g] = await findings(loop);
  assert.equal(g.rule, 'gup-partial-release');
  assert.equal(g.range.startRow, 8);
  const fixed = applyFix(loop, g);
  assert.match(fixed, /for \(i = 0; i < got; i\+\+\)/);
  assert.deepEqual(await findings(fixed), []);
});

test('partial release after a negative return says so', async () => {
  const text = `static void n(unsigned long uaddr, int nr, struct page **pages)
{
	long ret = pin_user_pages_fast(uaddr, nr, 0, pages);

	unpin_user_pages(pages, ret);
}
`;
  const [f] = await findings(text);
  assert.equal(f.rule, 'gup-partial-release');
  assert.match(f.message, /negative errno/);
  assert.match(f.message, /`ret` > 0/);
});

test('double release names both release sites', async () => {
  const text = `static int d(struct page *page)
{
	get_page(page);
	put_page(page);
	put_page(page);
	return 0;
}
`;
  const [f] = await findings(text);
  assert.equal(f.rule, 'gup-double-release');
  assert.equal(f.range.startRow, 4);
  assert.match(f.message, /released again by put_page\(\); this path already released it with put_page\(\) at line 4/);
  assert.deepEqual(f.related.map((r) => r.range.startRow), [2, 3]);
});

test('leak: message names the goto, its line and the branch; related points at the acquisition', async () => {
  const text = `static int l(unsigned long uaddr, int nr, struct page **out)
{
	struct page **pages = kcalloc(nr, sizeof(*pages), GFP_KERNEL);
	int ret;

	ret = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (ret < 0)
		goto out_free;
	if (l_check(ret))
		goto out_free;
	unpin_user_pages(pages, ret);
out_free:
	kfree(pages);
	return ret;
}
`;
  const fs = await findings(text);
  assert.deepEqual(fs.map((f) => `${f.range.startRow + 1}:${f.rule}`), ['10:gup-leak']);
  assert.match(fs[0].message, /pinned by pin_user_pages_fast\(\) into `pages` at line 6 are not released when `goto out_free` is taken at line 10 \(l_check\(\) branch at line 9\)/);
  assert.equal(fs[0].related[0].range.startRow, 5);
});
