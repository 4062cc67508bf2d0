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

test('vma-modify-read-lock: an open-coded stack growth (a function testing VM_GROWSUP / VM_GROWSDOWN) under the read lock is silent before v6.5 and reported from v6.5', async () => {
  const up = fixture('vma-modify-read-lock/stack-grow-up.c');
  const down = fixture('vma-modify-read-lock/flags-under-read-lock.c');
  const fns = async (text: string, kernel?: string): Promise<string[]> =>
    (await run(text, { rules: ['vma-modify-read-lock'], ...(kernel ? { kernel } : {}) })).map((f) => f.function).sort();
  assert.deepEqual(await fns(up, 'v6.1'), []);
  assert.deepEqual(await fns(up, 'v6.4'), []);
  const grown = await run(up, { rules: ['vma-modify-read-lock'], kernel: 'v6.5' });
  assert.deepEqual(grown.map((f) => f.function), ['upstack_extend']);
  assert.match(grown[0].message, /vm_end of a VMA is written while mmap_lock is held only for read .*\(stack expansion needs it since v6\.5\)/);
  // The growth test in a helper: the helper is skipped before v6.5, followed from v6.5.
  assert.deepEqual(await fns(down, 'v6.1'), ['lockdown_region', 'lockdown_region']);
  assert.deepEqual(await fns(down, 'v6.5'), ['lockdown_region', 'lockdown_region', 'touch_below']);
});

test('vma-modify-read-lock: a store of a call\'s result into vm_end is a write; one finding per store in the source', async () => {
  const found = await run(fixture('vma-modify-read-lock/bounds-under-read-lock.c'), { rules: ['vma-modify-read-lock'] });
  const at = found.map((f) => `${f.function}:${f.range.startRow + 1}`);
  assert.deepEqual(at, [...new Set(at)], 'two findings for one store');
  assert.deepEqual(found.filter((f) => f.function === 'arena_fit').map((f) => f.message.slice(0, 24)), ['vm_end of a VMA is writt', 'vm_end of a VMA is writt']);
  assert.equal(found.filter((f) => f.function === 'arena_clip').length, 1);
});

test('fault-under-lock: trace steps show the C calls as written, on their lines, through the helpers; the fault path is the kernel\'s step', async () => {
  const findings = await run(fixture('fault-under-lock/helper-copy-renamed.c'), { rules: ['fault-under-lock'] });
  assert.equal(findings.length, 1);
  const t = findings[0].trace!;
  // Entering the helper that takes the lock and the helper that faults are steps of their own;
  // the lock and the faulting call say which function they are in.
  assert.deepEqual(t.map((s) => [s.operation, s.range ? s.range.startRow + 1 : undefined]), [
    ['recfs_lock_inode(rc)', 29],
    ['gfs2_glock_nq(&rc->holder) (in recfs_lock_inode())', 12],
    ['recfs_emit(arg + i * 8, &rc->ip->entries[i])', 34],
    ['put_user(e->value, (u64 __user *)dst) (in recfs_emit())', 22],
    ['kernel: gfs2_page_mkwrite()', undefined],
  ]);
  assert.match(t[1].delta ?? '', /^the glock of rc->holder held shared by recfs_dump\(\)$/);
  assert.match(t[4].note ?? '', /^the kernel's fault path, not a line of recfs_dump\(\): gfs2_page_mkwrite\(\) takes the glock of rc->holder exclusive: recfs_dump\(\) waits for the glock of rc->holder, which it already holds \(shared\) — self-deadlock$/);
  assert.deepEqual(findings[0].traceThreads, ['recfs_dump()']);
  // No model object leaks into the words: no model file, lock instance or CPU number.
  for (const s of t) assert.doesNotMatch(`${s.operation} ${s.delta ?? ''} ${s.note ?? ''}`, /inodeA|glock\(|CPU\d/, s.operation);
  assert.equal(findings[0].message.split('mmap of the same file').length, 2, 'said once');
});

test('fault-under-lock: the mmap_lock trace names mm->mmap_lock, the other thread by its role, the arch fault handler as the kernel\'s step; the file\'s own handler has its line', async () => {
  const [rd, wr] = await run(fixture('fault-under-lock/mmap-lock-copy.c'), { rules: ['fault-under-lock'] });
  assert.equal(rd.traceThreads?.[0], 'report_regions()');
  assert.match(rd.traceThreads?.[1] ?? '', /^another thread: mmap_write_lock\(\)/);
  assert.ok(rd.trace!.some((s) => s.thread === 0 && s.operation === 'mmap_read_lock(mm)' && s.delta === 'mm->mmap_lock held shared by report_regions()'));
  assert.ok(rd.trace!.some((s) => s.thread === 0 && s.operation === 'kernel: do_user_addr_fault()' && !s.range && /report_regions\(\) waits for mm->mmap_lock/.test(s.note ?? '')));
  for (const s of [...rd.trace!, ...wr.trace!]) assert.doesNotMatch(`${s.operation} ${s.delta ?? ''} ${s.note ?? ''}`, /mm0|CPU\d/, s.operation);
  const [own] = await run(fixture('fault-under-lock/inode-lock-fault-handler.c'), { rules: ['fault-under-lock'] });
  const k = own.trace!.find((s) => s.operation.startsWith('kernel: '))!;
  assert.equal(k.operation, "kernel: lockyfs_page_mkwrite() (this file's fault handler)");
  assert.equal(k.range?.startRow, 3, 'the handler\'s own line');
  assert.match(k.note ?? '', /inode->i_rwsem, which it already holds/);
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
  // The threads by their roles, the lock as written, the user stores as user space, the fault path as the kernel's.
  assert.deepEqual(findings[0].traceThreads?.map((n) => n.split(':')[0]), ['track_reset_write()', 'user thread A', 'user thread B']);
  assert.ok(t.some((s) => s.delta === 'mm->mmap_lock held shared by track_reset_write()'));
  assert.ok(t.some((s) => s.thread === 2 && /^user store -> write fault; kernel: handle_mm_fault\(\) -> do_wp_page\(\) -> wp_page_copy\(\)$/.test(s.operation)));
  assert.ok(!t.some((s) => /sim_user_write|mmap_lock\(mm0\)|CPU\d|#\d/.test(`${s.operation} ${s.delta ?? ''} ${s.note ?? ''}`)), 'no model names');
});

test('fault-under-lock: before v5.16 the gfs2 iomap ops hold the glock across a buffered write\'s fault-in (not a direct write\'s); from v5.16 they do not', async () => {
  const text = fixture('fault-under-lock/ops-glock-buffered-write.c');
  const old = await run(text, { rules: ['fault-under-lock'], kernel: 'v5.15' });
  assert.deepEqual(old.map((f) => f.function), ['tallyfs_write_iter']);
  assert.match(old[0].message, /^iomap_file_buffered_write\(\) faults the user buffer in \(fault_in_iov_iter_readable\) with page faults enabled, after its own ->iomap_begin \(gfs2_iomap_ops\) took the lock: gfs2_iomap_begin\(\) takes the inode glock/);
  assert.match(old[0].message, /\(simulated: deadlock\)/);
  assert.ok(old[0].trace?.some((s) => s.operation === 'kernel: gfs2_fault()' || s.operation === 'kernel: gfs2_page_mkwrite()'), JSON.stringify(old[0].trace));
  assert.deepEqual(await run(text, { rules: ['fault-under-lock'], kernel: 'v5.16' }), []);
  assert.deepEqual(await run(text, { rules: ['fault-under-lock'] }), []);
});

test('wrprotect-under-read-lock: the trace keeps the C\'s order of its own lines (a flush after the unlock comes after the unlock)', async () => {
  const all = await run(fixture('wrprotect-under-read-lock/uffd-wp-read-lock.c'), { rules: ['wrprotect-under-read-lock'] });
  const findings = all.filter((f) => f.function === 'snapwp_protect');
  assert.equal(findings.length, 1);
  const rows = findings[0].trace!.filter((s) => s.thread === 0 && s.range).map((s) => s.range!.startRow + 1);
  // lock (28), the write-protect in the callback (12), the unlock (30), then the flush (31).
  assert.deepEqual(rows.filter((r) => r >= 28), [28, 30, 31]);
  assert.match(findings[0].message, /simulated on v5\.10: data-loss/);
  // Flushed before the unlock (softdirty-read-lock.c): the flush stays before the unlock.
  const before = await run(fixture('wrprotect-under-read-lock/softdirty-read-lock.c'), { rules: ['wrprotect-under-read-lock'] });
  assert.deepEqual(before[0].trace!.filter((s) => s.thread === 0 && s.range && s.range.startRow >= 28).map((s) => s.range!.startRow + 1), [29, 30, 32, 33, 34]);
  // An early-exit unlock before the walk is not the unlock the trace shows: the one after the walk is.
  const checked = all.find((f) => f.function === 'snapwp_protect_checked')!;
  assert.deepEqual(checked.trace!.filter((s) => s.thread === 0 && s.range && s.range.startRow >= 60).map((s) => `${s.range!.startRow + 1} ${s.operation.split('(')[0]}`), ['64 mmap_read_lock', '70 mmap_read_unlock', '71 flush_tlb_mm']);
});
