// Every row of RULES.md's seed-scenario table, both sides, under every profile where it matters:
// the verdict AND the step that decides it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_ROWS, findScenario } from '../../../engine/sim/scenarios/index';
import { expectedVerdict, runScenario, type ProfileName, type SimResult } from '../../../engine/sim/scenario';
import type { TraceStep } from '../../../engine/findings';

const ARCHS: ProfileName[] = ['x86_64', 'arm64', 'arm64-mte'];

function run(name: string, arch: ProfileName, kernel?: string): SimResult {
  const sc = findScenario(name);
  assert.ok(sc, `scenario ${name} exists`);
  return runScenario(sc, { arch, ...(kernel ? { kernel } : {}) });
}

function decisive(r: SimResult): TraceStep {
  assert.ok(r.decisive >= 0 && r.decisive < r.steps.length, `${r.scenario}: a deciding step is marked`);
  return r.steps[r.decisive];
}

const count = (steps: TraceStep[], pred: (s: TraceStep) => boolean): number => steps.filter(pred).length;

test('every seed row has a before and an after scenario whose verdicts match their expectations on every profile', () => {
  assert.equal(SEED_ROWS.length, 7);
  for (const row of SEED_ROWS) {
    for (const name of [row.before, ...row.after]) {
      const sc = findScenario(name)!;
      for (const arch of ARCHS) {
        const r = runScenario(sc, { arch });
        assert.equal(r.verdict, expectedVerdict(sc, arch), `${name} on ${arch}: ${r.note}`);
      }
    }
    for (const name of row.after) for (const arch of ARCHS) assert.equal(expectedVerdict(findScenario(name)!, arch), 'ok', `${name} is a fixed side`);
    assert.ok(ARCHS.some((a) => expectedVerdict(findScenario(row.before)!, a) !== 'ok'), `${row.before} fails somewhere`);
  }
});

test('search_ioctl: livelock on arm64-mte only; fault-in returned 0 while the copy failed at granule +0x40 twice, state repeating', () => {
  assert.equal(run('search-ioctl-mte', 'x86_64').verdict, 'ok');
  assert.equal(run('search-ioctl-mte', 'arm64').verdict, 'ok');
  const r = run('search-ioctl-mte', 'arm64-mte');
  assert.equal(r.verdict, 'livelock');
  assert.match(r.choice ?? '', /tag mismatch at granule \+0x40/);
  const faultIns = r.steps.filter((s) => s.operation.startsWith('fault_in_writeable(') && s.delta?.startsWith('returned 0'));
  assert.ok(faultIns.length >= 2, 'fault_in_writeable returned 0 on each round');
  assert.match(faultIns[0].note ?? '', /probed the first byte of page 0x7f0000001000 only/);
  const copies = r.steps.filter((s) => s.operation.startsWith('copy_to_user_nofault(') && /granule \+0x40/.test(s.note ?? ''));
  assert.ok(copies.length >= 2, 'the copy failed at the same granule at least twice');
  assert.equal(copies[0].note, copies[1].note?.replace(/ \(again\)$/, ''));
  const d = decisive(r);
  assert.equal(d.operation, 'state repeats');
  assert.match(d.note ?? '', /fault_in_writeable probed the first byte of page 0x7f0000001000 only; the copy faulted at 0x7f0000001040 again \(tag mismatch at granule \+0x40/);
  assert.match(d.note ?? '', /no progress/);
});

test('search_ioctl with fault_in_subpage_writeable: the sub-page probe reports the granule and the loop exits', () => {
  for (const arch of ARCHS) assert.equal(run('search-ioctl-subpage', arch).verdict, 'ok');
  // On a kernel before v5.19 the sub-page probe does not exist: the fix cannot help there.
  assert.equal(run('search-ioctl-subpage', 'arm64-mte', 'v5.18').verdict, 'livelock');
});

test('fault window before v5.14: arm64 copies stop short with nothing copied, fault-in probes a fine byte', () => {
  assert.equal(run('fault-window-pre514', 'x86_64').verdict, 'ok');
  for (const arch of ['arm64', 'arm64-mte'] as const) {
    const r = run('fault-window-pre514', arch);
    assert.equal(r.verdict, 'livelock');
    const copy = r.steps.find((s) => s.operation.startsWith('__copy_to_user_inatomic('));
    assert.match(copy?.note ?? '', /copied 0 of 32 bytes from 0x7f0000002ff8; faulted at 0x7f0000003000/);
    assert.match(copy?.note ?? '', /stopped 8 byte\(s\) short of it \(fault window\)/);
    assert.match(decisive(r).note ?? '', /probed byte 0x7f0000002ff8 of page 0x7f0000002000 only/);
  }
  for (const arch of ARCHS) {
    assert.equal(run('fault-window-margin', arch).verdict, 'ok');
    assert.equal(run('fault-window-v514', arch).verdict, 'ok');
  }
});

test('gfs2: the fault handler waits for the glock its own thread holds; the v5.16 fix is ok', () => {
  for (const arch of ARCHS) {
    const r = run('gfs2-glock-fault', arch);
    assert.equal(r.verdict, 'deadlock');
    const d = decisive(r);
    assert.equal(d.thread, 0);
    assert.match(d.operation, /^copy_to_user\(/);
    assert.match(d.note ?? '', /->(page_mkwrite|fault) of inodeA takes glock\(inodeA\)/);
    assert.match(d.note ?? '', /CPU0 waits for glock\(inodeA\), which it already holds/);
    assert.equal(run('gfs2-pagefault-disabled', arch).verdict, 'ok');
  }
});

test('clear_refs under mmap_read_lock: a store through a stale TLB entry lands between the COW copy and its install', () => {
  const r = run('clear-refs-read-lock', 'x86_64');
  assert.equal(r.verdict, 'data-loss');
  const d = decisive(r);
  assert.equal(d.thread, 2);
  assert.match(d.note ?? '', /do_wp_page copied page #0 to #1.*stale writable TLB entry/);
  assert.ok(r.steps.some((s) => /page_count 1025 != 1/.test(s.note ?? '')), 'do_wp_page decided by page_count with the pin');
  assert.ok(count(r.steps, (s) => s.thread === 1 && /TLB hit/.test(s.note ?? '')) >= 1);
  assert.equal(run('clear-refs-write-lock', 'x86_64').verdict, 'ok');
  // v5.19+: the pinned anon page is exclusive, do_wp_page reuses it: no copy to race with.
  assert.equal(run('clear-refs-read-lock', 'x86_64', 'v6.1').verdict, 'ok');
});

test('GUP\'d shared file page dirtied after writeback stripped its buffers: data-loss; the notifier protocol is ok', () => {
  const r = run('gup-dirty-after-writeback', 'arm64');
  assert.equal(r.verdict, 'data-loss');
  const d = decisive(r);
  assert.match(d.operation, /^set_page_dirty\(/);
  assert.match(d.note ?? '', /without buffers/);
  assert.ok(r.steps.some((s) => /buffers stripped/.test(s.delta ?? '')));
  assert.equal(run('gup-dirty-notifier', 'arm64').verdict, 'ok');
});

test('partial GUP return released over N: underflow on the slot GUP never filled; over ret: ok', () => {
  const r = run('gup-partial-release-nr', 'x86_64');
  assert.equal(r.verdict, 'underflow');
  assert.match(r.choice ?? '', /only 2 of 4/);
  const d = decisive(r);
  assert.match(d.operation, /^put_page\(pages\[i\]\)/);
  assert.match(d.note ?? '', /never taken/);
  assert.ok(r.steps.some((s) => /returned 2/.test(s.delta ?? '')));
  assert.equal(run('gup-partial-release-ret', 'x86_64').verdict, 'ok');
});

test('pin released with put_page: the pin bias stays; unpin_user_page: ok', () => {
  const r = run('pin-put-page', 'x86_64');
  assert.equal(r.verdict, 'underflow');
  assert.match(decisive(r).note ?? '', /pinned with FOLL_PIN and is released as a plain reference.*pin bias \(1024\) stays/);
  assert.equal(run('pin-unpin', 'x86_64').verdict, 'ok');
});
