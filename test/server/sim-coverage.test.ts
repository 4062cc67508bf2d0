// A verdict says what it covered (issue 8): the hover on a simulated finding lists each profile's
// verdict with what it covered or why it is inconclusive, in the same words `faultline simulate`
// prints per profile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient } from './lsp-client';
import { simulateFunction } from '../../engine/sim/simulate-function';
import { coverageWords } from '../../engine/sim/coverage';
import { createEngine } from '../../engine/engine';
import { repoRoot } from '../helpers/repo';

const FIXTURE = join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock', 'args-copied-from-user.c');

test('the hover on a live-lock finding shows what each profile covered, in the CLI\'s words', async () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const cli = await simulateFunction(text, 'demo_query_dump');
  const words = new Map(cli.profiles.map((p) => [p.arch, p.covered!]));
  assert.match(words.get('x86_64')!, /^covered: 513\/512\/511-byte buffers, every layout and adversary choice, copy reached$/);
  assert.match(words.get('arm64-mte')!, /^with 513-byte buffer; MTE tag mismatch/);

  const uri = 'file:///cov/args.c';
  const c = new LspClient();
  try {
    await c.initialize({ debounceMs: 0 });
    const since = c.received.length;
    c.open(uri, 'c', text, 1);
    const diags = await c.diagnostics(uri, since, (d) => d.some((x: any) => x.code === 'uaccess-livelock'), 120000);
    const d = diags.find((x: any) => x.code === 'uaccess-livelock');
    const h = await c.request('textDocument/hover', { textDocument: { uri }, position: d.range.start });
    const md: string = h.contents.value;
    assert.match(md, /\*\*Simulation\*\* \(what each verdict covered\)/);
    for (const [arch, w] of words) {
      const plain = md.replace(/\\([*_`[\]])/g, '$1');
      assert.ok(plain.includes(`**${arch}**: \`${cli.profiles.find((p) => p.arch === arch)!.verdict}\` — ${w}`), `${arch}: ${w} in\n${md}`);
    }
  } finally {
    await c.shutdown();
  }
});

test('inconclusive verdicts name their reason; ok needs the copy reached', async () => {
  assert.match(coverageWords({ verdict: 'inconclusive', note: 'no run reached a user copy', bound: 'copy not reached' }), /^copy not reached: no run reached/);
  assert.match(coverageWords({ verdict: 'inconclusive', note: 'stopped', bound: '30000 states' }), /^bound hit \(30000 states\)/);
  assert.match(coverageWords({ verdict: 'inconclusive', note: 'x', bound: 'unsupported: goto into a loop' }), /does not model \(goto into a loop\)/);
  // A finding from the engine (the CLI's path) carries the same words as `faultline simulate`.
  const text = readFileSync(FIXTURE, 'utf8');
  const engine = await createEngine();
  const f = engine.analyzeC(text, { path: 'args.c' }).findings.find((x) => x.rule === 'uaccess-livelock');
  assert.ok(f?.simulation?.length === 3, 'three profiles');
  const cli = await simulateFunction(text, 'demo_query_dump');
  for (const p of f!.simulation!) {
    const q = cli.profiles.find((x) => x.arch === p.arch)!;
    if (p.verdict === 'ok') assert.equal(p.covered, q.covered);
  }
});

test('the lock rules\' findings say what their simulation covered (hover and CLI share the words)', async () => {
  const engine = await createEngine();
  for (const [dir, file, rule] of [['fault-under-lock', 'glock-read-copy.c', 'fault-under-lock'], ['wrprotect-under-read-lock', 'softdirty-read-lock.c', 'wrprotect-under-read-lock']]) {
    const text = readFileSync(join(repoRoot(), 'test', 'fixtures', dir, file), 'utf8');
    const f = engine.analyzeC(text, { path: file }).findings.find((x) => x.rule === rule);
    assert.ok(f, `${rule} fires on ${file}`);
    assert.equal(f!.simulation?.length, 1, `${rule}: one simulated model`);
    const p = f!.simulation![0];
    assert.notEqual(p.verdict, 'ok', `${rule}: the finding's model fails`);
    assert.ok(p.covered.length > 0 && !/\$t\d/.test(p.covered), `${rule}: ${p.covered}`);
  }
});
