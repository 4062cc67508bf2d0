// Never block the editor (issue 8): the rule's simulations run in the server's worker pool.
// The first diagnostics come without waiting for them; the live-lock findings arrive when the
// simulations finish; hovers answer while they run; the pool drops jobs of replaced text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LspClient } from './lsp-client';
import { eightLoops, lockedCopies } from '../../bench/sim-editor';
import { SimulationPool } from '../../server/sim-pool';
import { loadCParser } from '../../engine/syntax/parser';
import { createEngine } from '../../engine/engine';
import { setSimulationBroker } from '../../engine/sim/broker';

test('diagnostics first without simulations, live-lock findings when the pool finishes, hovers answer meanwhile', async () => {
  const text = eightLoops();
  const uri = 'file:///pool/eight.c';
  const c = new LspClient();
  try {
    await c.initialize({ debounceMs: 0 });
    const since = c.received.length;
    c.open(uri, 'c', text, 1);
    const first = await c.diagnostics(uri, since, () => true, 60000);
    assert.equal(first.filter((d: any) => d.code === 'uaccess-livelock').length, 0, 'the first diagnostics do not wait for a simulation');
    const line = text.split('\n').findIndex((l) => l.includes('fault_in_writeable'));
    const hovers: number[] = [];
    for (let i = 0; i < 5; i++) {
      const h0 = performance.now();
      await c.request('textDocument/hover', { textDocument: { uri }, position: { line, character: 8 } });
      hovers.push(performance.now() - h0);
    }
    // Generous (a loaded CI machine): a hover never waits for a whole simulation.
    assert.ok(Math.max(...hovers) < 2000, `hovers took ${hovers.map((h) => h.toFixed(0)).join(', ')} ms`);
    const all = await c.diagnostics(uri, since, (d) => d.filter((x: any) => x.code === 'uaccess-livelock').length === 8, 120000);
    assert.equal(all.filter((d: any) => d.code === 'uaccess-livelock').length, 8);
    assert.ok(all.every((d: any) => d.code !== 'uaccess-livelock' || /arm64-mte/.test(d.message)));
  } finally {
    await c.shutdown();
  }
});

test('faults under locks and write-protects under mmap_read_lock are simulated in the pool too, and match the CLI once answered', async () => {
  const text = lockedCopies();
  const uri = 'file:///pool/locked.c';
  const simulated = ['fault-under-lock', 'wrprotect-under-read-lock'];
  const c = new LspClient();
  try {
    await c.initialize({ debounceMs: 0 });
    const since = c.received.length;
    c.open(uri, 'c', text, 1);
    const first = await c.diagnostics(uri, since, () => true, 60000);
    assert.equal(first.filter((d: any) => simulated.includes(d.code)).length, 0, 'the first diagnostics do not wait for these simulations');
    const all = await c.diagnostics(uri, since, (d) => d.filter((x: any) => simulated.includes(x.code)).length === 8, 120000);
    const mine = all.filter((d: any) => simulated.includes(d.code));
    assert.equal(mine.filter((d: any) => d.code === 'fault-under-lock').length, 6);
    assert.equal(mine.filter((d: any) => d.code === 'wrprotect-under-read-lock').length, 2);
    // The same findings the CLI reports inline (it has no pool): message and line for each.
    const engine = await createEngine();
    const cli = engine.analyzeC(text, { path: 'locked.c' }).findings.filter((f) => simulated.includes(f.rule));
    assert.deepEqual(
      mine.map((d: any) => `${d.range.start.line}:${d.message}`).sort(),
      cli.map((f) => `${f.range.startRow}:${f.message}`).sort(),
    );
    assert.ok(cli.every((f) => f.trace && f.trace.length > 0), 'each finding carries its simulated trace');
  } finally {
    await c.shutdown();
  }
});

test('the pool answers once per key, drops jobs whose text no document has, and hold() defers work', async () => {
  await loadCParser();
  const text = eightLoops();
  const results: string[] = [];
  const pool = new SimulationPool({ inProcess: true, onResult: (_t, key) => results.push(key) });
  try {
    const job = (i: number, t = text) => ({ rule: 'uaccess-livelock', key: `k${i}:${t.length}`, text: t, fn: `demo_dump_${i}` });
    assert.equal(pool.get(job(0)), undefined, 'pending at first');
    assert.equal(pool.get(job(0)), undefined, 'asked twice, queued once');
    pool.get(job(1));
    const other = `${text}\n`;
    pool.get(job(2, other));
    // The document now holds `text` only: the job for `other` is dropped.
    pool.retainTexts(new Set([text]));
    const release = pool.hold();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(results.length, 0, 'nothing runs while held');
    release();
    for (let i = 0; i < 400 && pool.pending; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(results.sort(), [job(0).key, job(1).key].sort());
    assert.equal(pool.stats.cancelled, 1);
    const answer = pool.get(job(0));
    assert.ok(answer && answer.outcomes.some((o) => o.result.verdict === 'livelock' && o.arch === 'arm64-mte'));
  } finally {
    pool.dispose();
  }
});

test('a model job (fault-under-lock) runs in the pool without lowering and answers what the CLI computes in place', async () => {
  await loadCParser();
  const text = lockedCopies();
  const engine = await createEngine();
  const inline = engine.analyzeC(text, { path: 'locked.c', rules: ['fault-under-lock'] }).findings;
  assert.equal(inline.length, 6);
  const results: string[] = [];
  const pool = new SimulationPool({ inProcess: true, onResult: (_t, key) => results.push(key) });
  setSimulationBroker(pool);
  try {
    const pending = engine.analyzeC(text, { path: 'locked.c', rules: ['fault-under-lock'] }).findings;
    assert.equal(pending.length, 0, 'nothing reported while the simulations are pending');
    assert.equal(pool.stats.queued, 6, 'one job per function with a conflict');
    for (let i = 0; i < 400 && pool.pending; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(results.length, 6);
    const answered = engine.analyzeC(text, { path: 'locked.c', rules: ['fault-under-lock'] }).findings;
    assert.deepEqual(answered, inline, 'the same findings, traces included');
  } finally {
    setSimulationBroker(undefined);
    pool.dispose();
  }
});
