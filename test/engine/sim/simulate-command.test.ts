import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulateCommand } from '../../../engine/sim/simulate-command';
import { SCENARIOS } from '../../../engine/sim/scenarios/index';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSimulateCommand(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('--list prints one line per scenario', async () => {
  const r = await run(['--list']);
  assert.equal(r.code, 0);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, SCENARIOS.length);
  assert.match(lines[0], /^search-ioctl-mte\s+before\s+btrfs/);
});

test('exit 0 for ok, 1 for a failing verdict, and the lockdep-style table', async () => {
  const ok = await run(['--scenario', 'search-ioctl-mte', '--arch', 'x86_64']);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /on x86_64, kernel v6\.18: ok/);
  const bad = await run(['--scenario', 'search-ioctl-mte']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /arm64-mte\s+livelock/);
  assert.match(bad.out, /CPU0 \(search_ioctl\)/);
  assert.match(bad.out, /\*\*\* LIVELOCK \*\*\*/);
  const two = await run(['--scenario', 'clear-refs-read-lock', '--arch', 'arm64']);
  assert.equal(two.code, 1);
  assert.match(two.out, /CPU0 \(clear_refs\)\s+CPU1 \(writer \(TLB cached\)\)\s+CPU2/);
});

test('--json follows the simulate contract', async () => {
  const r = await run(['--scenario', 'gfs2-glock-fault', '--arch', 'x86_64', '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.verdict, 'deadlock');
  assert.equal(j.arch, 'x86_64');
  assert.ok(Array.isArray(j.steps) && j.steps.length > 0);
  for (const s of j.steps) assert.equal(typeof s.thread, 'number');
  assert.equal(typeof j.statesExplored, 'number');
  assert.equal(typeof j.interleavings, 'number');
  assert.equal(typeof j.naive, 'number');
  const all = JSON.parse((await run(['--scenario', 'search-ioctl-mte', '--json', '--kernel', 'v5.19'])).out);
  assert.equal(all.arch, 'arm64-mte');
  assert.deepEqual(all.profiles.map((p: { verdict: string }) => p.verdict), ['ok', 'ok', 'livelock']);
  const capped = JSON.parse((await run(['--scenario', 'clear-refs-write-lock', '--arch', 'x86_64', '--json', '--max-states', '10'])).out);
  assert.equal(capped.verdict, 'inconclusive');
  assert.equal(capped.bound, '10 states');
});

test('usage errors exit 2 with a clear message', async () => {
  for (const argv of [[], ['--scenario', 'nope'], ['--scenario', 'pin-unpin', '--arch', 'sparc'], ['--scenario', 'pin-unpin', '--kernel', 'banana'],
    ['--scenario', 'pin-unpin', '--max-states', '0'], ['--frobnicate']]) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.ok(r.err.length > 0);
  }
  // `simulate FILE --function NAME` reads the file (issue 4): a missing file is an input error.
  const c = await run(['fs/btrfs/ioctl.c', '--function', 'search_ioctl']);
  assert.equal(c.code, 2);
  assert.match(c.err, /fs\/btrfs\/ioctl\.c: no such file or directory/);
});
