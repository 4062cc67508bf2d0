// Recall shapes of the seed rules taken from real fixes (issue 9): each bug with its fixed twin,
// and the kernel-version switches they depend on. The fixtures check lines; this checks words
// and versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding } from '../../../engine/findings';
import { repoRoot } from '../../helpers/repo';
import { lockHover } from '../../../engine/explain/lock-hover';

let parser: Promise<CParser> | undefined;
async function run(text: string, opts: { rules?: string[]; kernel?: string } = {}): Promise<Finding[]> {
  parser ??= loadCParser();
  const file = lowerC(await parser, text);
  return runRules(file, text, opts);
}

function fixture(rel: string): string {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', rel), 'utf8');
}

test('vma-modify-read-lock: stack expansion with no mmap_lock fires on every version; under the read lock only from v6.5', async () => {
  const text = fixture('vma-modify-read-lock/stack-grow-unlocked.c');
  const old = await run(text, { rules: ['vma-modify-read-lock'], kernel: 'v6.1' });
  assert.deepEqual(old.map((f) => f.function), ['fetch_arg_page']);
  assert.match(old[0].message, /expand_downwards\(\) with no mmap_lock held: fetch_arg_page\(\) takes mmap_lock itself \(mmap_read_lock\(\) on line 16\)/);
  const now = await run(text, { rules: ['vma-modify-read-lock'] });
  assert.deepEqual(now.map((f) => f.function).sort(), ['fetch_arg_page', 'grow_for_fault']);
});

test('fault-under-lock: trace steps show the C calls as written, on their lines, through the helper', async () => {
  const findings = await run(fixture('fault-under-lock/helper-copy-renamed.c'), { rules: ['fault-under-lock'] });
  assert.equal(findings.length, 1);
  const t = findings[0].trace!;
  assert.deepEqual(t.map((s) => [s.operation, s.range!.startRow + 1]), [
    ['gfs2_glock_nq(&rc->holder)', 12],
    ['recfs_emit(arg + i * 8, &rc->ip->entries[i])', 34],
    ['put_user(e->value, (u64 __user *)dst)', 22],
  ]);
  assert.match(t[2].note ?? '', /^put_user\(\): .*self-deadlock/);
  assert.equal(findings[0].message.split('mmap of the same file').length, 2, 'said once');
});

test('fault-under-lock: an I/O entry point faulting under a held lock shows itself, not the model copy', async () => {
  const findings = await run(fixture('fault-under-lock/iter-nofault.c'), { rules: ['fault-under-lock'] });
  assert.ok(findings.length >= 1);
  for (const f of findings) {
    assert.ok(f.trace && f.trace.length >= 2);
    assert.ok(!f.trace.some((s) => /\bkbuf\b|\bubuf\b/.test(s.operation) && s.thread === 0), JSON.stringify(f.trace.map((s) => s.operation)));
    assert.ok(f.trace.some((s) => s.operation.startsWith(`${f.message.split('(')[0]}(`)), 'the faulting call of the message is a step');
  }
});

test('lock hover: an inode lock says whether this file\'s fault handler takes it; a nofault copy under a lock says it cannot fault; a DIO call names what its ops hold', async () => {
  parser ??= loadCParser();
  const p = await parser;
  const hover = (rel: string, row: number, col: number): string => {
    const text = fixture(rel);
    return lockHover(lowerC(p, text), text, row, col)?.markdown ?? '';
  };
  assert.match(hover('fault-under-lock/inode-lock-fault-handler.c', 23, 2), /This file's fault handler `lockyfs_page_mkwrite\(\)` takes it/);
  assert.match(hover('fault-under-lock/inode-lock.c', 8, 2), /No fault handler of this file takes it/);
  const nofault = hover('fault-under-lock/iter-nofault.c', 14, 9);
  assert.match(nofault, /`filemap_read\(\)` runs under `glock` but cannot take a page fault here/);
  const dio = hover('fault-under-lock/dio-ops-holds-range.c', 13, 10);
  assert.match(dio, /`extent_lock` held by the call itself: its ops table `btrfs_dio_iomap_ops`'s ->iomap_begin/);
  assert.match(dio, /can deadlock/);
  assert.match(hover('fault-under-lock/dio-ops-holds-range.c', 61, 10), /with no lock held: no deadlock/);
});

test('wrprotect-under-read-lock: the trace shows the C lock and write-protect calls; model-only steps say so', async () => {
  const findings = await run(fixture('wrprotect-under-read-lock/softdirty-read-lock.c'), { rules: ['wrprotect-under-read-lock'] });
  const t = findings[0].trace!;
  assert.ok(t.some((s) => s.thread === 0 && s.operation === 'mmap_read_lock(mm)' && s.range?.startRow === 28));
  // The fixture calls flush_tlb_mm() itself: that step is its line, not the model's.
  assert.ok(t.some((s) => s.thread === 0 && s.operation === 'flush_tlb_mm(mm)' && s.range?.startRow === 31));
  assert.ok(t.some((s) => s.thread === 0 && s.operation.startsWith('pte_wrprotect(ptent) (in track_pte_range()') && s.range?.startRow === 14));
  for (const s of t.filter((x) => x.thread === 0 && !x.range && !/^return\b/.test(x.operation))) assert.match(s.note ?? '', /model step, not a line of track_reset_write\(\)/);
  assert.ok(!t.some((s) => /clear_soft_dirty\(/.test(s.operation)), 'no model-only call shown as the C');
});
