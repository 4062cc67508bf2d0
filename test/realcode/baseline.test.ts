// The baseline comparison and format checks behind the whole-tree test and realcode:alarms, on
// made-up alarms (fast; no kernel tree needed), plus the committed baseline's format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputFile } from '../../engine/input/files';
import { allRules } from '../../engine/rules/registry';
import { repoRoot } from '../helpers/repo';
import {
  baselineDir, compare, inScope, isSizeLimitNote, loadBaseline, realcodeSkip, runFailures,
  type Alarm, type BaselineEntry, type CheckRun,
} from './baseline';

const alarm = (path: string, fn: string, rule: string, line = 1): Alarm => ({ path, function: fn, rule, line, severity: 'error', message: 'm' });
const entry = (path: string, fn: string, rule: string): BaselineEntry => ({ path, function: fn, rule, verdict: 'real', reason: 'r' });

test('compare: untriaged alarms and vanished entries, one per (path, function, rule)', () => {
  const base = [entry('fs/a.c', 'f', 'gup-leak'), entry('mm/b.c', 'g', 'gup-leak'), entry('mm/b.c', 'g', 'gup-release-mismatch')];
  const alarms = [
    alarm('fs/a.c', 'f', 'gup-leak', 20), alarm('fs/a.c', 'f', 'gup-leak', 10),
    alarm('mm/b.c', 'g', 'gup-release-mismatch'),
    alarm('mm/c.c', 'h', 'gup-leak', 7), alarm('mm/c.c', 'h', 'gup-leak', 3),
    alarm('fs/a.c', 'f', 'gup-double-release'),
  ];
  const c = compare(alarms, base);
  assert.deepEqual(c.untriaged.map((a) => [a.path, a.function, a.rule, a.line]), [
    ['fs/a.c', 'f', 'gup-double-release', 1],
    ['mm/c.c', 'h', 'gup-leak', 3],
  ]);
  assert.deepEqual(c.vanished.map((e) => [e.path, e.rule]), [['mm/b.c', 'gup-leak']]);
  assert.equal(c.matched, 2);
  assert.equal(c.keys, 4);
});

test('compare: a run limited by --rule or --dir only vanishes the entries it covered', () => {
  const base = [entry('fs/a.c', 'f', 'gup-leak'), entry('mm/b.c', 'g', 'gup-leak'), entry('mm/b.c', 'g', 'gup-release-mismatch')];
  assert.deepEqual(compare([], base, { rules: ['gup-release-mismatch'] }).vanished.map((e) => e.rule), ['gup-release-mismatch']);
  assert.deepEqual(compare([], base, { dirs: ['./fs/'] }).vanished.map((e) => e.path), ['fs/a.c']);
  assert.deepEqual(compare([], base, { dirs: ['mm/b.c'], rules: ['gup-leak'] }).vanished.map((e) => `${e.path} ${e.rule}`), ['mm/b.c gup-leak']);
  assert.equal(inScope('mmx/b.c', 'gup-leak', { dirs: ['mm'] }), false, 'a directory prefix is a whole path segment');
  assert.equal(inScope('mm/b.c', 'gup-leak', { dirs: ['.'] }), true);
});

test('loadBaseline: every format error is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-baseline-'));
  try {
    writeFileSync(join(dir, 'gup-leak.json'), JSON.stringify([
      entry('mm/b.c', 'g', 'gup-leak'),
      entry('fs/a.c', 'f', 'gup-leak'),
      entry('fs/a.c', 'f', 'gup-leak'),
      { ...entry('fs/z.c', 'f', 'gup-leak'), verdict: 'false' },
      { ...entry('fs/z.c', 'g', 'gup-release-mismatch') },
      { ...entry('/abs/z.c', 'g', 'gup-leak') },
      { path: 'fs/z.c', function: 'h', rule: 'gup-leak', verdict: 'real' },
      { ...entry('fs/z.c', 'i', 'gup-leak'), line: 3 },
    ]));
    writeFileSync(join(dir, 'other.json'), '{');
    const { entries, errors } = loadBaseline(dir);
    const has = (re: RegExp) => assert.ok(errors.some((e) => re.test(e)), `no error matching ${re} in:\n${errors.join('\n')}`);
    has(/gup-leak\.json\[1\]: not sorted/);
    has(/gup-leak\.json\[2\]: duplicate entry/);
    has(/gup-leak\.json\[3\]: verdict "false"/);
    has(/gup-leak\.json\[4\]: rule "gup-release-mismatch" in gup-leak\.json/);
    has(/gup-leak\.json\[5\]: path "\/abs\/z\.c"/);
    has(/gup-leak\.json\[6\]: "reason" must be a non-empty string/);
    has(/gup-leak\.json\[7\]: unknown field\(s\) line/);
    has(/other\.json: not JSON/);
    assert.equal(entries.length, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed baseline is well formed and names only known rules', () => {
  const { entries, errors } = loadBaseline(baselineDir(repoRoot()));
  assert.deepEqual(errors, []);
  const known = new Set(allRules.map((r) => r.meta.id));
  assert.deepEqual(entries.filter((e) => !known.has(e.rule)).map((e) => e.rule), []);
});

test('runFailures: crashes, internal errors, degraded rules, unreadable files and time stops fail; notes and size-limit skips do not', () => {
  const run: CheckRun = { alarms: [], notes: [alarm('a.c', 'f', 'gup-leak')], degraded: [], problems: [], status: 0, stderr: '', wallMs: 1 };
  assert.deepEqual(runFailures(run), []);
  assert.equal(runFailures({ ...run, crash: 'the CLI printed no JSON report (exit null, signal SIGKILL)' }).length, 1);
  assert.equal(runFailures({ ...run, degraded: [alarm('a.c', 'f', 'degraded')] }).length, 1);
  assert.equal(runFailures({ ...run, problems: [{ path: 'a.c', severity: 'error', message: 'analysis stopped after 30000 ms' }] }).length, 1);
  assert.equal(runFailures({ ...run, problems: [{ path: 'a.c', severity: 'info', message: 'step budget reached in f()' }] }).length, 0);
  assert.equal(runFailures({ ...run, problems: [{ path: 'big.h', severity: 'error', message: 'file too large (9000000 bytes; the limit is 8388608 bytes, set FAULTLINE_MAX_FILE_BYTES to change it)' }] }).length, 0);
  assert.equal(runFailures({ ...run, problems: [{ path: 'a.c', severity: 'error', message: 'internal error while analyzing: boom' }] }).length, 1);
  assert.equal(runFailures({ ...run, problems: [{ path: 'a.c', severity: 'error', message: 'EACCES: permission denied' }] }).length, 1);
});

test('realcodeSkip: CI never skips; outside CI a missing tree or the opt-out skips with a reason', () => {
  const none = { message: 'no tree' };
  const some = { path: '/t', message: '' };
  assert.equal(realcodeSkip({ CI: 'true' }, none), false);
  assert.equal(realcodeSkip({ CI: 'true', FAULTLINE_SKIP_REALCODE: '1' }, some), false);
  assert.match(String(realcodeSkip({}, none)), /scripts\/ensure-linux-tree\.sh/);
  assert.match(String(realcodeSkip({ FAULTLINE_SKIP_REALCODE: '1' }, some)), /FAULTLINE_SKIP_REALCODE=1/);
  assert.equal(realcodeSkip({}, some), false);
});

test('isSizeLimitNote recognises the message the CLI prints for a file past the size limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-baseline-'));
  try {
    const file = join(dir, 'big.h');
    writeFileSync(file, '#define A 1\n'.repeat(64));
    const r = readInputFile(file, 16);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && isSizeLimitNote({ path: 'big.h', severity: 'error', message: r.message }), !r.ok ? r.message : '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
