// The seed-thread rules (issue 9): words, traces, kernel versions and hovers (the fixtures check lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding } from '../../../engine/findings';
import { lockHover } from '../../../engine/explain/lock-hover';
import { repoRoot } from '../../helpers/repo';
import { unattachedFacets } from '../../../engine/kernel/api-table';

let parser: Promise<CParser> | undefined;
async function run(text: string, opts: { rules?: string[]; kernel?: string } = {}): Promise<{ findings: Finding[]; file: ReturnType<typeof lowerC> }> {
  parser ??= loadCParser();
  const file = lowerC(await parser, text);
  return { findings: runRules(file, text, opts), file };
}

function fixture(rel: string): string {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', rel), 'utf8');
}

test('fault-under-lock: the glock read names the lock, its line and carries a same-thread deadlock trace', async () => {
  const { findings } = await run(fixture('fault-under-lock/glock-read-copy.c'), { rules: ['fault-under-lock'] });
  assert.equal(findings.length, 1);
  const f = findings[0];
  assert.match(f.message, /copy_to_user\(\).*glock \(gh\) held shared since gfs2_glock_nq\(\) on line 11/);
  assert.match(f.message, /simulated: deadlock/);
  assert.ok(f.trace && f.trace.length >= 2);
  assert.match(f.trace!.at(-1)!.note ?? '', /self-deadlock/);
  assert.equal(f.trace![0].range?.startRow, 10, 'the lock step points at the C line of gfs2_glock_nq');
  assert.equal(f.related[0].range.startRow, 10);
});

test('fault-under-lock: mmap_lock held for read is proven with a second thread queueing the writer', async () => {
  const { findings } = await run(fixture('fault-under-lock/mmap-lock-copy.c'), { rules: ['fault-under-lock'] });
  const read = findings.find((f) => f.function === 'report_regions')!;
  assert.ok(read.trace);
  assert.ok(read.trace!.some((s) => s.thread === 1 && /mmap_write_lock/.test(s.operation)));
  assert.match(read.trace!.at(-1)!.note ?? '', /every unfinished thread is blocked/);
});

test('wrprotect-under-read-lock: fires from v5.9 on, silent with --kernel v5.8 (reuse by mapcount)', async () => {
  const text = fixture('wrprotect-under-read-lock/softdirty-read-lock.c');
  const now = await run(text, { rules: ['wrprotect-under-read-lock'] });
  assert.equal(now.findings.length, 1);
  assert.match(now.findings[0].message, /track_walk_ops\.pmd_entry = track_pte_range/);
  assert.match(now.findings[0].message, /simulated on v5\.10: data-loss/);
  const v510 = await run(text, { rules: ['wrprotect-under-read-lock'], kernel: 'v5.10' });
  assert.equal(v510.findings.length, 1);
  const v58 = await run(text, { rules: ['wrprotect-under-read-lock'], kernel: 'v5.8' });
  assert.equal(v58.findings.length, 0);
});

test('wrprotect-under-read-lock: uffd-wp with a pending flush fires before v5.12, not after', async () => {
  const text = fixture('wrprotect-under-read-lock/uffd-wp-pending.c');
  assert.equal((await run(text, { rules: ['wrprotect-under-read-lock'], kernel: 'v5.11' })).findings.length, 1);
  assert.equal((await run(text, { rules: ['wrprotect-under-read-lock'], kernel: 'v5.12' })).findings.length, 0);
});

test('gup-dirty-unlocked: the quick fix renames to set_page_dirty_lock and the result is clean', async () => {
  const text = fixture('gup-dirty-unlocked/local-pages.c');
  const { findings } = await run(text, { rules: ['gup-dirty-unlocked'] });
  assert.equal(findings.length, 1);
  const e = findings[0].fixes![0].edits[0];
  const fixed = text.slice(0, e.range.start) + e.newText + text.slice(e.range.end);
  assert.equal((await run(fixed, { rules: ['gup-dirty-unlocked'] })).findings.length, 0);
});

test('lock hover: the acquisition says what the fault path takes; the faulting call says why it deadlocks or not', async () => {
  const text = fixture('fault-under-lock/glock-read-copy.c');
  const { file } = await run(text);
  const onLock = lockHover(file, text, 10, 10)!;
  assert.match(onLock.markdown, /gfs2_fault\(\) and gfs2_page_mkwrite\(\) take the inode glock/);
  const onCopy = lockHover(file, text, 14, 7)!;
  assert.match(onCopy.markdown, /can deadlock/);
  const inode = fixture('fault-under-lock/inode-lock.c');
  const r2 = await run(inode);
  const onInodeCopy = lockHover(r2.file, inode, 9, 7)!;
  assert.match(onInodeCopy.markdown, /no deadlock/);
});

test('every seed-rule facet attached to an entry of the table', () => {
  assert.deepEqual(unattachedFacets, []);
});
