// simulateFunction() and `faultline simulate FILE --function NAME`: verdicts per profile, the
// JSON contract, budgets, cancellation, input errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { simulateFunction, traceDocument } from '../../../engine/sim/simulate-function';
import { runSimulateCommand } from '../../../engine/sim/simulate-command';
import { fixture, repoRoot } from './helpers';

const SEARCH = 'uaccess-livelock/search-records-rewind.c';

test('simulateFunction: livelock on arm64-mte with the trace; the fixed twin is ok everywhere', async () => {
  const progress: number[] = [];
  const r = await simulateFunction(fixture(SEARCH), 'demo_search_ioctl', { onProgress: (n) => progress.push(n) });
  assert.equal(r.verdict, 'livelock');
  assert.equal(r.arch, 'arm64-mte');
  assert.deepEqual(r.profiles.map((p) => `${p.arch}:${p.verdict}`), ['x86_64:ok', 'arm64:ok', 'arm64-mte:livelock']);
  assert.deepEqual(r.roles, { user: ['ubuf'], len: ['buf_size'] });
  assert.equal(r.loops.length, 1);
  assert.match(r.choice ?? '', /tag mismatch/);
  assert.ok(r.statesExplored > 0 && r.steps.length > 0 && r.decisive === r.steps.length - 1);
  assert.ok(progress.length > 0 && progress.every((n, i) => i === 0 || n >= progress[i - 1]));
  const fixed = await simulateFunction(fixture('uaccess-livelock/search-records-subpage.c'), 'demo_search_ioctl');
  assert.equal(fixed.verdict, 'ok');
  assert.deepEqual(fixed.profiles.map((p) => p.verdict), ['ok', 'ok', 'ok']);
});

test('simulateFunction: one profile, cancellation and the state budget give inconclusive, never a hang', async () => {
  const one = await simulateFunction(fixture(SEARCH), 'demo_search_ioctl', { arch: 'x86_64' });
  assert.deepEqual(one.profiles.map((p) => p.arch), ['x86_64']);
  assert.equal(one.verdict, 'ok');
  let polls = 0;
  const cancelled = await simulateFunction(fixture(SEARCH), 'demo_search_ioctl', { cancelled: () => ++polls > 5 });
  assert.equal(cancelled.verdict, 'inconclusive');
  assert.equal(cancelled.bound, 'cancelled');
  const tiny = await simulateFunction(fixture(SEARCH), 'demo_search_ioctl', { maxStates: 3, arch: 'arm64-mte' });
  assert.equal(tiny.verdict, 'inconclusive');
});

test('simulateFunction: unknown function, bad profile and bad version are input errors', async () => {
  const r = await simulateFunction(fixture(SEARCH), 'search_ioctl', { path: 'x.c' });
  assert.match(r.error ?? '', /no function "search_ioctl" defined in the file \(did you mean demo_search_ioctl\?\)/);
  assert.match((await simulateFunction('int f(void) { return 0; }', 'f', { arch: 'sparc' })).error ?? '', /unknown architecture profile/);
  assert.match((await simulateFunction('int f(void) { return 0; }', 'f', { kernel: 'banana' })).error ?? '', /cannot parse kernel version/);
  // A function without a fault-in loop still runs as written.
  const plain = await simulateFunction('int f(int x) { return x + 1; }', 'f');
  assert.equal(plain.verdict, 'ok');
  assert.deepEqual(plain.loops, []);
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSimulateCommand(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('faultline simulate FILE --function NAME: text and --json (ARCHITECTURE.md contract), exit codes', async () => {
  const file = join(repoRoot(), 'test', 'fixtures', SEARCH);
  const text = await cli([file, '--function', 'demo_search_ioctl']);
  assert.equal(text.code, 1);
  assert.match(text.out, /arm64-mte\s+livelock/);
  assert.match(text.out, /function demo_search_ioctl\(\) in .* on arm64-mte, kernel v\d+\.\d+: livelock/);
  assert.match(text.out, /state repeats/);
  const json = await cli([file, '--function=demo_search_ioctl', '--json']);
  assert.equal(json.code, 1);
  const obj = JSON.parse(json.out);
  assert.equal(obj.verdict, 'livelock');
  assert.equal(obj.arch, 'arm64-mte');
  assert.ok(Array.isArray(obj.steps) && obj.steps.length > 0);
  assert.ok(obj.steps.some((s: { line?: number }) => typeof s.line === 'number' && s.line >= 1), 'steps carry 1-based lines');
  assert.equal(typeof obj.statesExplored, 'number');
  const ok = await cli([join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock/search-records-subpage.c'), '--function', 'demo_search_ioctl', '--arch', 'x86_64', '--json']);
  assert.equal(ok.code, 0);
  assert.equal(JSON.parse(ok.out).verdict, 'ok');
  const missingFn = await cli([file]);
  assert.equal(missingFn.code, 2);
  assert.match(missingFn.err, /--function NAME is required/);
  const noFile = await cli([join(repoRoot(), 'no-such-file.c'), '--function', 'f']);
  assert.equal(noFile.code, 2);
  assert.match(noFile.err, /no-such-file\.c: no such file or directory/);
  const noSuchFn = await cli([file, '--function', 'nope']);
  assert.equal(noSuchFn.code, 2);
  assert.match(noSuchFn.err, /no function "nope"/);
});

test('traceDocument: verdicts, loops and every step linked to its source line', async () => {
  const r = await simulateFunction(fixture(SEARCH), 'demo_search_ioctl', { arch: 'arm64-mte' });
  const doc = traceDocument(r, 'file:///w/search.c');
  assert.match(doc, /^# demo_search_ioctl\(\): livelock on arm64-mte/);
  assert.match(doc, /\[the while loop at line 45\]\(file:\/\/\/w\/search\.c#L45\)/);
  assert.match(doc, /\[L27\]\(file:\/\/\/w\/search\.c#L27\) `copy_to_user_nofault\(/);
  assert.match(doc, /\*\*→\*\* `state repeats`/);
});
