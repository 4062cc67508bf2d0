// The interpreter runs lowered C (engine/lower -> engine/ir.ts), not a private IR: the same
// scenario written in kernel-style C reaches the same verdicts, with source ranges in the trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runScenario, type Scenario } from '../../../engine/sim/scenario';
import { userLayouts } from '../../../engine/sim/from-c/build';

const SEARCH = `
static long search_items(char __user *ubuf, unsigned long buf_size, const void *item)
{
	unsigned long sk_offset = 0;
	long ret;

	while (1) {
		ret = -EFAULT;
		if (fault_in_writeable(ubuf + sk_offset, buf_size - sk_offset))
			break;
		if (sk_offset >= buf_size) {
			ret = 0;
			break;
		}
		if (copy_to_user_nofault(ubuf + sk_offset, item, 128) == 0)
			sk_offset += 128;
	}
	return ret;
}
`;

const GFS2 = `
static ssize_t demo_read_iter(struct demo_holder *gh, char __user *buf, size_t len, const void *kbuf)
{
	size_t left;

	demo_glock_nq(gh);
	left = copy_to_user(buf, kbuf, len);
	demo_glock_dq(gh);
	return len - left;
}
`;

test('a search_ioctl-style loop lowered from C: livelock on arm64-mte, ok on x86_64, ranges in the trace', async () => {
  const ir = lowerC(await loadCParser(), SEARCH);
  const f = ir.functions[0];
  const sc: Scenario = {
    name: 'c-search', title: 'from C', source: 'test', side: 'before', oracle: 'live-lock', fromC: true,
    functions: [f], threads: [{ fn: f.name, args: [0x7f0000001000, 0x100, 0x1000] }],
    layout: { vmas: [{ start: 0x7f0000001000, pages: 2, kind: 'anon' }], badGranules: [0x7f0000001040] },
    expect: {},
  };
  assert.equal(runScenario(sc, { arch: 'x86_64' }).verdict, 'ok');
  const r = runScenario(sc, { arch: 'arm64-mte' });
  assert.equal(r.verdict, 'livelock');
  const copy = r.steps.find((s) => s.operation.startsWith('copy_to_user_nofault('));
  assert.ok(copy?.range, 'steps from C carry the source range');
  assert.equal(SEARCH.split('\n')[copy!.range!.startRow].trim().startsWith('if (copy_to_user_nofault('), true);
});

test('a glock-style lock declared by the workspace (assumed API) deadlocks a fault on a mapping of the same file', async () => {
  const ir = lowerC(await loadCParser(), GFS2);
  const f = ir.functions[0];
  const lock = (name: string, op: 'acquire' | 'release') => ({
    name, signature: `void ${name}(struct demo_holder *gh)`, header: 'demo.h', summary: 'demo filesystem lock',
    lock: { op, lock: 'glock', mode: 'shared' as const, arg: 0, takenByFaultPath: true },
  });
  const sc: Scenario = {
    name: 'c-gfs2', title: 'from C', source: 'test', side: 'before', oracle: 'deadlock', fromC: true,
    functions: [f], threads: [{ fn: f.name, args: ['glock(demo)', 0x7f0000010000, 0x40, 0x1000] }],
    layout: { files: [{ name: 'demo', faultLock: 'glock(demo)' }], vmas: [{ start: 0x7f0000010000, pages: 1, kind: 'shared-file', file: 'demo' }] },
    assumeApis: [lock('demo_glock_nq', 'acquire'), lock('demo_glock_dq', 'release')],
    expect: {},
  };
  const r = runScenario(sc, { arch: 'x86_64' });
  assert.equal(r.verdict, 'deadlock');
  assert.match(r.note, /CPU0 waits for glock\(demo\), which it already holds/);
});

test('without sub-page faults a tag-mismatch layout is the all-present run state for state, so userLayouts leaves it out', async () => {
  const ir = lowerC(await loadCParser(), SEARCH);
  const f = ir.functions[0];
  const base = 0x7f0000001000;
  const run = (badGranules: number[], arch: 'x86_64' | 'arm64' | 'arm64-mte') => runScenario({
    name: 'c-search', title: 'from C', source: 'test', side: 'before', oracle: 'live-lock', fromC: true,
    functions: [f], threads: [{ fn: f.name, args: [base, 0x100, 0x1000] }],
    layout: { vmas: [{ start: base, pages: 2, kind: 'anon' }], badGranules }, expect: {},
  }, { arch });
  for (const arch of ['x86_64', 'arm64'] as const) {
    const plain = run([], arch);
    const tagged = run([base + 0x40], arch);
    assert.equal(tagged.verdict, plain.verdict, arch);
    assert.equal(tagged.statesExplored, plain.statesExplored, arch);
    assert.deepEqual(tagged.steps.map((s) => s.operation), plain.steps.map((s) => s.operation), arch);
  }
  // With MTE the tag matters (the live-lock above), so there the layouts stay.
  assert.notEqual(run([base + 0x40], 'arm64-mte').verdict, run([], 'arm64-mte').verdict);
  const labels = (sub: boolean) => userLayouts(0x100, sub).map((l) => l.label);
  assert.ok(labels(true).some((l) => l.startsWith('MTE tag mismatch')));
  assert.ok(!labels(false).some((l) => l.startsWith('MTE tag mismatch')));
  assert.deepEqual(labels(false), labels(true).filter((l) => !l.startsWith('MTE tag mismatch')));
});
