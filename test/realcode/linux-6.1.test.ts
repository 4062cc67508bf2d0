// The whole Linux 6.1 tree (Debian's linux-source-6.1) through the real CLI, the way a user runs
// it: no crash, no internal error, no file stopped by a budget without saying so, and exactly the
// triaged alarms of test/realcode/linux-6.1/*.json (docs/DEVELOPING.md, "Real kernel code"): a new
// alarm fails until it is triaged (real or concern) or fixed in the analysis.
// Always runs in CI (a missing tree fails); outside CI it is skipped without a tree, or when
// FAULTLINE_SKIP_REALCODE=1. `npm run realcode:alarms` prints the same comparison for triage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo';
import {
  baselineDir, compare, countLines, findTree, formatReport, loadBaseline, realcodeSkip, runCheck, runFailures,
} from './baseline';

const root = repoRoot();
const tree = findTree(root);

// One whole-tree run, shared by the two tests below (about three minutes on two cores).
let shared: { run: ReturnType<typeof runCheck>; cmp: ReturnType<typeof compare>; report: string } | undefined;
function wholeTree(): NonNullable<typeof shared> {
  if (shared) return shared;
  assert.ok(tree.path, `CI: the Linux 6.1 tree is missing; .ci/run fetches it with scripts/ensure-linux-tree.sh (${tree.message})`);
  assert.ok(existsSync(join(root, 'dist', 'cli.js')), 'dist/cli.js must be built (npm test builds it)');
  const baseline = loadBaseline(baselineDir(root));
  assert.deepEqual(baseline.errors, [], 'test/realcode/linux-6.1/*.json is malformed');
  const run = runCheck(root, tree.path);
  const cmp = compare(run.alarms, baseline.entries);
  shared = { run, cmp, report: formatReport(run, cmp, countLines(tree.path), {}) };
  return shared;
}

test('Linux 6.1 whole tree: no crash, no internal error, no file stopped without saying so', { skip: realcodeSkip(process.env, tree) }, (t) => {
  const { run, report } = wholeTree();
  for (const line of report.trimEnd().split('\n').slice(0, 2)) t.diagnostic(line);
  const failures = runFailures(run);
  assert.deepEqual(failures, [], `the run over ${tree.path} reported ${failures.length} crash(es), internal error(s) or budget stop(s):\n${failures.join('\n')}`);
});

test('Linux 6.1 whole tree: the alarms are exactly the triaged baseline', { skip: realcodeSkip(process.env, tree) }, (t) => {
  const { cmp, report } = wholeTree();
  // The figures are part of the result: print them on success too. On a mismatch the assertion
  // message below carries the lists; the diagnostics keep to the two lines of figures.
  const same = cmp.untriaged.length === 0 && cmp.vanished.length === 0;
  const lines = report.trimEnd().split('\n');
  for (const line of same ? lines : lines.slice(0, 2)) t.diagnostic(line);
  assert.ok(same, `the alarms differ from the baseline (npm run realcode:alarms prints the same list):\n${report}`);
});
