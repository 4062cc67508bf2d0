// gup-dirty-unlocked: what each kind of finding says, where it points and which fix it offers (the
// fixtures check lines; this checks words, related locations and quick fixes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding } from '../../../engine/findings';
import { repoRoot } from '../../helpers/repo';

let parser: Promise<CParser> | undefined;
async function run(rel: string): Promise<{ text: string; findings: Finding[] }> {
  parser ??= loadCParser();
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'gup-dirty-unlocked', rel), 'utf8');
  return { text, findings: runRules(lowerC(await parser, text), text, { rules: ['gup-dirty-unlocked'] }) };
}

/** 1-based line of the first line of `text` containing `needle` (after `from`, 1-based). */
function lineOf(text: string, needle: string, from = 1): number {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  throw new Error(`no ${needle}`);
}

test('gup-dirty-unlocked: dirtied after release names the release as a related location and offers no lock rename', async () => {
  const { text, findings } = await run('dirty-after-put.c');
  assert.equal(findings.length, 3);
  for (const f of findings) {
    assert.match(f.message, /references were already dropped/);
    assert.match(f.message, /Dirty before the release: set_page_dirty_lock\(\) then put_page\(\), or unpin_user_pages_dirty_lock\(\)/);
    assert.deepEqual(f.fixes ?? [], [], 'the set_page_dirty_lock rename does not fix a page nobody holds');
  }
  const first = findings.find((f) => f.function === 'frob_one')!;
  const put = lineOf(text, 'put_page(pg);');
  assert.match(first.message, new RegExp(`put_page\\(\\) on line ${put} released it`));
  assert.equal(first.related[0]!.range.startRow + 1, put);
  assert.match(first.related[0]!.message, /references dropped here \(put_page\(\)\)/);
  const bail = findings.find((f) => f.function === 'poke_or_bail')!;
  assert.equal(bail.related[0]!.range.startRow + 1, lineOf(text, 'unpin_user_page(pg);'));
});

test('gup-dirty-unlocked: pages released before the array was stored are dirtied by nobody, even in the callback', async () => {
  const { text, findings } = await run('notifier-after-release.c');
  assert.equal(findings.length, 1);
  const f = findings[0]!;
  const rel = lineOf(text, 'release_pages(frames, got);');
  assert.match(f.message, new RegExp(`release_pages\\(\\) in dtab_map_user\\(\\), line ${rel} released it`));
  assert.deepEqual(f.related.map((r) => r.range.startRow + 1), [rel, lineOf(text, 'get_user_pages_fast_only(dt->uaddr')]);
  assert.deepEqual(f.fixes ?? [], []);
});

test('gup-dirty-unlocked: an acquisition in another function is named and related', async () => {
  for (const [file, taker, needle] of [
    ['release-dirty.c', 'capbuf_map', 'get_user_pages_fast(uaddr, nr'],
    ['sg-release.c', 'ubuf_pin', 'got = get_user_pages_fast('],
    ['page-field.c', 'wslot_grab', 'get_user_pages_fast(w->uaddr'],
  ] as const) {
    const { text, findings } = await run(file);
    const line = lineOf(text, needle);
    const f = findings[0]!;
    assert.match(f.message, new RegExp(`get_user_pages_fast\\(\\) in ${taker}\\(\\), line ${line}`), file);
    assert.equal(f.related[0]?.range.startRow + 1, line, file);
    assert.match(f.related[0]!.message, new RegExp(`pages taken here \\(get_user_pages_fast\\(\\) in ${taker}\\(\\)\\)`), file);
    // The plain unlocked case keeps its rename.
    assert.equal(f.fixes?.[0]?.title, 'Use set_page_dirty_lock()', file);
  }
});

test('gup-dirty-unlocked: a notifier callback without the write check says so and offers no lock rename', async () => {
  const { findings } = await run('notifier-write-check.c');
  assert.deepEqual(findings.map((f) => f.function).sort(), ['shring_any', 'shring_backwards']);
  for (const f of findings) {
    assert.match(f.message, new RegExp(`in the mmu-notifier callback ${f.function}\\(\\) without checking that the pages are writable`));
    assert.deepEqual(f.fixes ?? [], [], 'the callback may run with the page lock held');
  }
});

test('gup-dirty-unlocked: a helper only the callback calls runs in it, and the message names the callback', async () => {
  const { findings } = await run('notifier-helpers.c');
  const helper = findings.find((f) => f.function === 'qset_dirty_all')!;
  assert.match(helper.message, /in qset_dirty_all\(\), which runs only from the mmu-notifier callback qset_inval_all\(\), without checking that the pages are writable/);
  assert.deepEqual(helper.fixes ?? [], []);
  // Also called from the teardown: not callback-only, the plain finding with its rename.
  const shared = findings.find((f) => f.function === 'qset_dirty_shared')!;
  assert.match(shared.message, /without the page lock/);
  assert.equal(shared.fixes?.[0]?.title, 'Use set_page_dirty_lock()');
});
