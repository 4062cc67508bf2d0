// scripts/ensure-linux-tree.sh --check: finds the unpacked Linux 6.1 tree (or the one named by
// FAULTLINE_LINUX_TREE) without installing anything, and says how to get one when there is none.
// Runs in temporary cache folders; never installs or unpacks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo';

const script = join(repoRoot(), 'scripts', 'ensure-linux-tree.sh');

function check(env: NodeJS.ProcessEnv, ...args: string[]) {
  const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: e });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

function withTemp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-tree-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('FAULTLINE_LINUX_TREE names the tree, and must look like one', () => withTemp((dir) => {
  const tree = join(dir, 'linux');
  mkdirSync(join(tree, 'mm'), { recursive: true });
  assert.deepEqual(check({ FAULTLINE_LINUX_TREE: tree }, '--check'), { status: 0, out: tree, err: '' });
  const bad = check({ FAULTLINE_LINUX_TREE: dir }, '--check');
  assert.equal(bad.status, 1);
  assert.equal(bad.out, '');
  assert.match(bad.err, /not a kernel tree/);
}));

test('--check with an empty cache fails and names the command that fetches the tree', () => withTemp((dir) => {
  const r = check({ XDG_CACHE_HOME: dir }, '--check');
  assert.equal(r.status, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /run scripts\/ensure-linux-tree\.sh/);
}));

test('--check finds a tree unpacked in the cache, keyed by the package version', () => withTemp((dir) => {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', 'linux-source-6.1'], { encoding: 'utf8' });
  const installed = dpkg.status === 0 ? /^install ok installed (.+)$/.exec(dpkg.stdout)?.[1] : undefined;
  const tree = join(dir, 'faultline-linux', installed ?? '6.1.0-test', 'linux-source-6.1');
  mkdirSync(join(tree, 'mm'), { recursive: true });
  assert.deepEqual(check({ XDG_CACHE_HOME: dir }, '--check'), { status: 0, out: tree, err: '' });
}));

test('an unknown option is a usage error', () => {
  assert.equal(check({}, '--bogus').status, 2);
});
