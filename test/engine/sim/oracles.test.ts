// One scenario per oracle beyond the seeds, plus the budget and cancellation paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, findScenario } from '../../../engine/sim/scenarios/index';
import { expectedVerdict, runScenario, type ProfileName } from '../../../engine/sim/scenario';
import { fn } from '../../../engine/sim/builder';
import { buildInitialState } from '../../../engine/sim/scenario';
import { PROFILES } from '../../../engine/kernel/profiles';
import { kernelSwitches } from '../../../engine/kernel/versions';
import { userCopy, type OpCtx } from '../../../engine/kernel/ops';

const ARCHS: ProfileName[] = ['x86_64', 'arm64', 'arm64-mte'];

test('every built-in scenario meets its expected verdict on every profile', () => {
  for (const sc of SCENARIOS) for (const arch of ARCHS) {
    const r = runScenario(sc, { arch });
    assert.equal(r.verdict, expectedVerdict(sc, arch), `${sc.name} on ${arch}: ${r.note}`);
  }
});

test('every oracle is exercised beyond the seeds', () => {
  const verdicts = new Set(SCENARIOS.flatMap((sc) => ARCHS.map((a) => expectedVerdict(sc, a))));
  for (const v of ['ok', 'livelock', 'deadlock', 'leak', 'underflow', 'data-loss', 'stale-tlb']) assert.ok(verdicts.has(v as never), v);
});

test('fault_in_safe_writeable return-value window: livelock on v5.17-rc8..fix, ok before and after', () => {
  const sc = findScenario('safe-writeable-window')!;
  const r = runScenario(sc, { arch: 'x86_64' });
  assert.equal(r.verdict, 'livelock');
  const fi = r.steps.find((s) => s.operation.startsWith('fault_in_safe_writeable('));
  assert.match(fi?.delta ?? '', /returned 0/);
  assert.match(fi?.note ?? '', /0x7f0000006000 failed: no VMA.*returned 0 anyway/);
  assert.equal(runScenario(sc, { arch: 'x86_64', kernel: 'v5.17-rc8' }).verdict, 'livelock');
  assert.equal(runScenario(sc, { arch: 'x86_64', kernel: 'v5.17-rc7' }).verdict, 'ok');
  assert.equal(runScenario(sc, { arch: 'x86_64', kernel: 'v6.15' }).verdict, 'ok');
});

test('mmap_lock writer preference: a queued writer blocks the fault\'s read lock; all blocked', () => {
  const r = runScenario(findScenario('mmap-lock-writer-queued')!, { arch: 'x86_64' });
  assert.equal(r.verdict, 'deadlock');
  assert.ok(r.steps.some((s) => s.thread === 1 && /waits for mmap_lock\(mm0\) exclusively/.test(s.note ?? '')));
  assert.ok(r.steps.some((s) => s.thread === 0 && /writer CPU1 queued, so new readers wait/.test(s.note ?? '')));
  assert.match(r.note, /every unfinished thread is blocked/);
});

test('leak at exit, unpin of a FOLL_GET page, stale TLB and the vmsplice/fork COW case', () => {
  const leak = runScenario(findScenario('gup-error-path-leak')!, { arch: 'arm64' });
  assert.equal(leak.verdict, 'leak');
  assert.match(leak.choice ?? '', /second page unmapped/);
  assert.match(leak.note, /still carries 1 reference/);

  const unpin = runScenario(findScenario('get-unpin')!, { arch: 'arm64' });
  assert.equal(unpin.verdict, 'underflow');
  assert.match(unpin.note, /holds no FOLL_PIN pin: refcount 2 - 1024 underflows/);

  const stale = runScenario(findScenario('clear-refs-no-flush')!, { arch: 'x86_64' });
  assert.equal(stale.verdict, 'stale-tlb');
  assert.equal(stale.steps[stale.decisive].thread, 1);

  const fork = findScenario('vmsplice-fork-mapcount')!;
  const r = runScenario(fork, { arch: 'x86_64' });
  assert.equal(r.verdict, 'data-loss');
  assert.match(r.note, /mapcount 1 \(<= v5.8 rule\).*still holds a GUP reference/);
  assert.ok(r.steps.some((s) => s.operation.startsWith('sim_munmap(') && s.thread === 1));
  assert.equal(runScenario(fork, { arch: 'x86_64', kernel: 'v5.9' }).verdict, 'ok');
  assert.equal(runScenario(fork, { arch: 'x86_64' /* mainline via pair */, kernel: 'v6.1' }).verdict, 'ok');
});

test('the notifier protocol needs the retry check: without mmu_interval_read_retry the write is lost', () => {
  const good = findScenario('gup-dirty-notifier')!;
  const broken = {
    ...good, name: 'gup-dirty-notifier-no-retry',
    functions: good.functions.map((f) => (f.name !== 'vhost_write_page' ? f : fn('vhost_write_page', ['uaddr'], (b) => {
      b.decl('pages', 'struct page *', 1);
      b.call('mmu_interval_notifier_insert', ['sub', 'mm', 'uaddr', 'PAGE_SIZE', 'vhost_invalidate'], 'err');
      b.call('get_user_pages_fast', ['uaddr', 1, 'FOLL_WRITE', 'pages'], 'n');
      b.if('n != 1', () => b.ret('-EFAULT'));
      b.call('spin_lock', ['mmu_lock']);
      b.call('kmap', ['pages[0]'], 'map');
      b.assign('mpage', 'pages[0]');
      b.call('spin_unlock', ['mmu_lock']);
      b.call('put_page', ['pages[0]']);
      b.call('spin_lock', ['mmu_lock']);
      b.if('map != 0', () => b.call('memcpy', ['map', 'src', 0x40]));
      b.call('spin_unlock', ['mmu_lock']);
      b.ret(0);
    }))),
  };
  const r = runScenario(broken, { arch: 'x86_64' });
  assert.equal(r.verdict, 'data-loss');
  assert.match(r.note, /clean but holds .* while writeback wrote/);
});

test('budgets: a tiny state budget and a cancelled run are inconclusive naming the bound', () => {
  const sc = findScenario('clear-refs-write-lock')!;
  const r = runScenario(sc, { arch: 'x86_64', maxStates: 20 });
  assert.equal(r.verdict, 'inconclusive');
  assert.equal(r.bound, '20 states');
  assert.match(r.note, /state budget of 20 states exhausted/);
  const c = runScenario(sc, { arch: 'x86_64', cancelled: () => true });
  assert.equal(c.verdict, 'inconclusive');
  assert.equal(c.bound, 'cancelled');
});

test('an unbounded counter loop never hangs: inconclusive at the state budget', () => {
  const sc = {
    ...findScenario('pin-unpin')!, name: 'spin-forever',
    functions: [fn('spin', [], (b) => {
      b.assign('i', 0);
      b.loop(() => { b.call('sim_user_read', [0x7f0000040000]); b.assign('i', 'i + 1'); });
    })],
    threads: [{ fn: 'spin' }],
  };
  const r = runScenario(sc, { arch: 'x86_64', maxStates: 500 });
  assert.equal(r.verdict, 'inconclusive');
  assert.match(r.bound ?? '', /500 states/);
});

test('determinism: the same input gives the same verdict, trace and counts', () => {
  for (const name of ['clear-refs-read-lock', 'gup-dirty-notifier', 'search-ioctl-mte']) {
    const a = runScenario(findScenario(name)!, { arch: 'arm64-mte' });
    const b = runScenario(findScenario(name)!, { arch: 'arm64-mte' });
    assert.deepEqual({ ...a }, { ...b });
  }
});

test('partial-order reduction: same verdicts, fewer interleavings, >= 10x below naive over the suite', () => {
  let explored = 0;
  let naive = 0;
  for (const sc of SCENARIOS) {
    const a = runScenario(sc, { arch: 'x86_64' });
    explored += a.interleavings;
    naive += a.naive;
    if (sc.threads.length < 2) continue;
    const b = runScenario(sc, { arch: 'x86_64', noReduction: true });
    assert.equal(a.verdict, b.verdict, sc.name);
    assert.ok(a.interleavings <= b.interleavings, `${sc.name}: ${a.interleavings} <= ${b.interleavings}`);
  }
  assert.ok(naive / explored >= 10, `reduction ${naive / explored}`);
  const cr = runScenario(findScenario('clear-refs-write-lock')!, { arch: 'x86_64' });
  const crNo = runScenario(findScenario('clear-refs-write-lock')!, { arch: 'x86_64', noReduction: true });
  assert.ok(cr.interleavings * 3 < crNo.interleavings, 'sleep sets prune a 3-thread scenario');
});

test('set_page_dirty_lock is ordered by the page lock but cannot bring back buffers reclaim stripped (SEMANTICS E)', () => {
  const r = runScenario(findScenario('gup-dirty-lock-after-reclaim')!, { arch: 'x86_64' });
  assert.equal(r.verdict, 'data-loss');
  assert.match(r.steps[r.decisive].operation, /^set_page_dirty_lock\(/);
  assert.ok(r.steps.some((s) => s.thread === 1 && /unlock_page/.test(s.operation)), 'reclaim finished under the page lock first');
});

test('direct-I/O through the kernel mapping ignores the tag mismatch a uaccess copy trips on (seed 000)', () => {
  const sc = findScenario('dio-kernel-mapping')!;
  const r = runScenario(sc, { arch: 'arm64-mte' });
  assert.equal(r.verdict, 'ok');
  // The same page through uaccess faults at the tagged granule.
  const { state } = buildInitialState(sc, sc.layout, sc.globals ?? {}, PROFILES['arm64-mte'], 'v6.18');
  const ctx: OpCtx = { s: state, tid: 0, profile: PROFILES['arm64-mte'], sw: kernelSwitches(), fp: new Map(), label: 'L', notes: [], deltas: [] };
  const c = userCopy(ctx, 0x7f0000007000, 0x100, true, false, 'copy_to_user_nofault');
  assert.equal(c.faultAt, 0x7f0000007040);
  assert.match(c.reason ?? '', /tag mismatch/);
});
