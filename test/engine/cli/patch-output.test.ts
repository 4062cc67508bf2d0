// Patch runs through the CLI: SARIF (patch as the analysis target, the post-image as the
// location, stable fingerprints), the b4 per-patch check recipe, and the plain `diff -u` note.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../../engine/cli/main';
import { findSarifSchema, sarifValidator } from './sarif-schema';
import {
  ADD_BUSY, ADD_PIN, applied, COUNT_RESETS, mail, plainDiff, series, WOBBLE_BASE, WOBBLE_PATH,
} from '../patch/wobble-series';

const ROOT = join(__dirname, '..', '..', '..', '..');
const BIN = join(ROOT, 'bin', 'faultline');

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-patch-out-'));
  made.push(d);
  return d;
}

async function run(argv: string[], cwd: string, stdin?: string) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (s) => { out += s; }, stderr: (s) => { err += s; },
    stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]), cwd, env: {},
  });
  return { code, out, err };
}

const pin = { subject: 'pin the user buffer', hunks: [ADD_PIN] };
const busy = { subject: 'refuse a busy device', hunks: [ADD_BUSY] };
const resets = { subject: 'count resets', hunks: [COUNT_RESETS] };

test('SARIF from a patch series: post-image location, the patch as analysis target, schema-valid, stable fingerprints', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'wobble.mbx'), series(pin, busy, resets));
  const r = await run(['check', '--format', 'sarif', 'wobble.mbx'], dir);
  assert.equal(r.code, 1, r.err);
  const sarif = JSON.parse(r.out);
  const runs = sarif.runs[0];
  assert.deepEqual(runs.artifacts.map((a: any) => [a.location.uri, a.roles]), [['wobble.mbx', ['analysisTarget']]]);
  const leaks = runs.results.filter((x: any) => x.ruleId === 'gup-leak');
  assert.equal(leaks.length, 1);
  const res = leaks[0];
  const loc = res.locations[0].physicalLocation;
  assert.deepEqual(loc.artifactLocation, { uri: WOBBLE_PATH, uriBaseId: '%SRCROOT%' });
  const final = applied(ADD_PIN, ADD_BUSY, COUNT_RESETS).split('\n');
  assert.equal(final[loc.region.startLine - 1], '\t\treturn -EBUSY;', 'the region is the line in the patched file');
  assert.match(res.message.text, new RegExp(`at line ${loc.region.startLine}\\b`), 'the message cites the numbering of its location');
  assert.deepEqual(res.analysisTarget, { uri: 'wobble.mbx', uriBaseId: '%SRCROOT%', index: 0 });
  assert.equal(res.relatedLocations[0].physicalLocation.artifactLocation.uri, 'wobble.mbx');
  assert.match(res.relatedLocations[0].message.text, /^in the patch \[PATCH 2\/3\] wobble: refuse a busy device: /);
  assert.equal(res.properties.patch.subject, '[PATCH 2/3] wobble: refuse a busy device');
  assert.match(res.partialFingerprints['faultlineFinding/v1'], /^[0-9a-f]{32}:1$/);

  // the same series with a longer commit message and more lines above the function: same fingerprint
  const shifted = series(pin, busy, resets).replace(/Patch (\d) of the wobble series\./g, 'Patch $1 of the wobble series.\n\nWith a longer\nexplanation.');
  writeFileSync(join(dir, 'wobble-v2.mbx'), shifted);
  const r2 = JSON.parse((await run(['check', '--format', 'sarif', 'wobble-v2.mbx'], dir)).out);
  const res2 = r2.runs[0].results.find((x: any) => x.ruleId === 'gup-leak');
  assert.deepEqual(res2.partialFingerprints, res.partialFingerprints);
  assert.notDeepEqual(res2.relatedLocations[0].physicalLocation.region, res.relatedLocations[0].physicalLocation.region);

  // with --tree, the post-image location is resolved in the tree
  mkdirSync(join(dir, 'linux', dirname(WOBBLE_PATH)), { recursive: true });
  writeFileSync(join(dir, 'linux', WOBBLE_PATH), WOBBLE_BASE);
  const r3 = JSON.parse((await run(['check', '--format', 'sarif', '--tree', 'linux', 'wobble.mbx'], dir)).out);
  const res3 = r3.runs[0].results.find((x: any) => x.ruleId === 'gup-leak');
  assert.equal(res3.locations[0].physicalLocation.artifactLocation.uri, `linux/${WOBBLE_PATH}`);
  assert.equal(res3.locations[0].physicalLocation.region.startLine, loc.region.startLine);

  const schemaPath = findSarifSchema();
  if (!schemaPath) {
    assert.ok(!process.env.CI, 'CI: the SARIF 2.1.0 schema must be installed (devDependency @microsoft/jest-sarif)');
    t.skip('SARIF 2.1.0 schema not installed');
    return;
  }
  const validate = sarifValidator(schemaPath);
  for (const s of [sarif, r2, r3]) assert.ok(validate(s), JSON.stringify(validate.errors, null, 2));
});

test('checkpatch --showfile: the patched file, its line, and a message in that numbering', async () => {
  const dir = tmp();
  const r = await run(['check', '--format', 'checkpatch', '--showfile', '-'], dir, series(pin, busy, resets));
  assert.equal(r.code, 1, r.err);
  const final = applied(ADD_PIN, ADD_BUSY, COUNT_RESETS).split('\n');
  const m = /^drivers\/misc\/wobble\.c:(\d+): ERROR:gup-leak: .*returns -EBUSY at line (\d+)/m.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(m![1], m![2]);
  assert.equal(final[Number(m![1]) - 1], '\t\treturn -EBUSY;');
  // a series: each line names the patch that introduced the finding; a single patch does not
  assert.match(r.out, /\(introduced by \[PATCH 2\/3\] wobble: refuse a busy device\)$/m);
  const one = await run(['check', '--format', 'checkpatch', '-'], dir, mail(2, 3, busy));
  assert.match(one.out, /^<stdin>:\d+: ERROR:gup-leak: /m);
  assert.doesNotMatch(one.out, /introduced by/);
});

test('a plain diff -u that cannot be analyzed: a note naming the hunk and --tree, exit 2; with --tree it is checked', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'busy.diff'), plainDiff([ADD_BUSY]));
  const r = await run(['check', 'busy.diff'], dir);
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(r.out, '');
  assert.match(r.err, /^faultline: busy\.diff:3: note: could not analyze wobble\.c hunk @@ -13,4 \+13,6 @@: .*pass --tree DIR/m);
  assert.match(r.err, /^faultline: busy\.diff: could not analyze wobble\.c: .*pass --tree DIR/m);
  writeFileSync(join(dir, 'wobble.c'), applied(ADD_PIN));
  const withTree = await run(['check', '--tree', '.', 'busy.diff'], dir);
  assert.equal(withTree.code, 1, withTree.err);
  assert.match(withTree.out, /^busy\.diff:\d+:\d+: error: .*\[gup-leak\]/m);
});

/**
 * What b4 does with a per-patch check command (b4.am-perpatch-check-cmd, b4.prep-perpatch-check-cmd):
 * run it once per patch with the mail on stdin, in the top directory of the git tree; every
 * stdout line becomes "<command name>: <line>", a failure when it contains "ERROR:", else a
 * warning (a leading "-:" is dropped); every stderr line is a failure; no output and exit 0 is
 * "passed all checks"; no output and another exit status is "Exited with error code N".
 */
function b4Report(cmd: string[], mailText: string, cwd: string): [string, string][] {
  const p = spawnSync(cmd[0], cmd.slice(1), { input: mailText, cwd, encoding: 'utf8', timeout: 60_000 });
  const name = cmd[0].split('/').pop()!;
  const out = p.stdout.trim() ? p.stdout.trim().split('\n') : [];
  const err = p.stderr.trim() ? p.stderr.trim().split('\n') : [];
  const report: [string, string][] = [];
  for (const l of out) report.push([l.includes('ERROR:') ? 'fail' : 'warning', `${name}: ${l.replace(/^-:/, '')}`]);
  for (const l of err) report.push(['fail', `${name}: ${l.replace(/^-:/, '')}`]);
  if (!out.length && !err.length) report.push(p.status ? ['fail', `${name}: Exited with error code ${p.status}`] : ['success', `${name}: passed all checks`]);
  return report;
}

test('b4 recipes: am-perpatch-check-cmd and prep-perpatch-check-cmd, one patch on stdin at a time', (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    assert.ok(!process.env.CI, 'CI: dist/cli.js must be built (npm test builds it)');
    t.skip('dist/cli.js not built');
    return;
  }
  const dir = tmp();
  // the tree b4 runs in: the base file (b4 am --check: the series is not applied yet)
  mkdirSync(join(dir, dirname(WOBBLE_PATH)), { recursive: true });
  writeFileSync(join(dir, WOBBLE_PATH), WOBBLE_BASE);
  const mails = [mail(1, 3, pin), mail(2, 3, busy), mail(3, 3, resets)];
  // b4 hands over the message without the mbox "From " line
  const asB4 = (m: string) => m.slice(m.indexOf('\n') + 1);
  const am = [BIN, 'check', '--format', 'checkpatch', '-'];
  const reports = mails.map((m) => b4Report(am, asB4(m), dir));
  assert.deepEqual(reports[0], [['success', 'faultline: passed all checks']]);
  assert.equal(reports[1].length, 1, JSON.stringify(reports[1]));
  assert.equal(reports[1][0][0], 'fail');
  assert.match(reports[1][0][1], /^faultline: <stdin>:\d+: ERROR:gup-leak: Pages pinned by pin_user_pages_fast\(\) into `pages` at line \d+ are not released when the function returns -EBUSY at line \d+/);
  assert.deepEqual(reports[2], [['success', 'faultline: passed all checks']]);

  // b4 prep --check: your branch has the series applied; --showfile names the file and line
  writeFileSync(join(dir, WOBBLE_PATH), applied(ADD_PIN, ADD_BUSY, COUNT_RESETS));
  const prep = [BIN, 'check', '--format', 'checkpatch', '--showfile', '--tree', '.', '-'];
  const p2 = b4Report(prep, asB4(mails[1]), dir);
  assert.equal(p2.length, 1, JSON.stringify(p2));
  const m = /^faultline: drivers\/misc\/wobble\.c:(\d+): ERROR:gup-leak: .*returns -EBUSY at line (\d+)/.exec(p2[0][1]);
  assert.ok(m, p2[0][1]);
  assert.equal(m![1], m![2]);
  // the line in the branch's file, which patch 3 (applied too) moved down by one
  assert.equal(applied(ADD_PIN, ADD_BUSY, COUNT_RESETS).split('\n')[Number(m![1]) - 1], '\t\treturn -EBUSY;');
});
