// uaccess-livelock simulates each fault-in retry loop; when the simulation stops at its state
// budget without a verdict, the user must be told (a budget note), because silence means "checked
// and fine". Buffered-write loops whose counters grow every round never repeat a state, so they
// end at the bound: bench/inputs/sim-write-loops.c (our own code) is one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../../engine/engine';
import { repoRoot } from '../../helpers/repo';

test('uaccess-livelock: a loop simulation that spends its state budget gives a budget note naming the function and the loop', async () => {
  const e = await createEngine();
  const text = readFileSync(join(repoRoot(), 'bench', 'inputs', 'sim-write-loops.c'), 'utf8');
  const r = e.analyze(text, { path: 'sim-write-loops.c', rules: ['uaccess-livelock'] });
  r.tree?.delete();
  const notes = r.findings.filter((f) => f.rule === 'budget');
  assert.ok(notes.length > 0, JSON.stringify(r.findings.map((f) => f.message)));
  for (const n of notes) {
    assert.equal(n.severity, 'info');
    assert.match(n.message, /^The live-lock simulation of .*loop.* stopped early in \w+\(\): its state budget ran out \([\d,]+ states explored\) on /);
    assert.match(n.message, new RegExp(`in ${n.function}\\(\\)`));
  }
  assert.equal(r.findings.filter((f) => f.rule === 'uaccess-livelock').length, 0);
});

test('uaccess-livelock: the silent fixtures of the rule finish their simulation (no budget note)', async () => {
  const e = await createEngine();
  const dir = join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock');
  const silent = readdirSync(dir).filter((n) => n.startsWith('silent-') && n.endsWith('.c'));
  assert.ok(silent.length >= 5, `silent fixtures: ${silent.join(', ')}`);
  for (const name of silent) {
    const r = e.analyze(readFileSync(join(dir, name), 'utf8'), { path: name, rules: ['uaccess-livelock'] });
    r.tree?.delete();
    assert.deepEqual(r.findings.map((f) => f.message), [], name);
  }
});
