// Drives a real VS Code for the end-to-end test: code-server (VS Code 1.139 served to a browser,
// installed from npm and cached outside the clone by scripts/ensure-code-server.mjs) in headless
// Chromium (Debian's /usr/bin/chromium) through playwright-core. The recipe and its traps are in
// ../shared/E2E.md: a throw-away HOME/XDG/TMPDIR, `--config /dev/null`, workspace trust off,
// code-server in its own process group so the whole tree can be killed, every wait bounded.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The repository root: the nearest ancestor whose package.json is the faultline project. */
export function repoRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'faultline') return dir;
      } catch {
        /* not ours; keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no faultline package.json above ${from}`);
    dir = up;
  }
}

export const CHROMIUM = process.env.FAULTLINE_CHROMIUM || '/usr/bin/chromium';

export interface CodeServerInstall {
  version: string;
  node: string;
  entry: string;
  dir: string;
}

type Log = (msg: string) => void;

/** Runs a node script of ours with a time limit, streaming its stderr to the log. */
function runScript(script: string, args: string[], limitMs: number, log: Log): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let errTail = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      errTail = (errTail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) log(line);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, limitMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${script} ${args.join(' ')} failed (${signal ?? 'exit ' + code}):\n${errTail}`));
    });
  });
}

/** Installs code-server on the first run (≈3 min), then reuses the cache. */
export async function ensureCodeServer(log: Log, limitMs = 15 * 60_000): Promise<CodeServerInstall> {
  const out = await runScript(join(repoRoot(), 'scripts', 'ensure-code-server.mjs'), ['--json'], limitMs, log);
  const last = out.trim().split('\n').pop() ?? '';
  const info = JSON.parse(last) as CodeServerInstall;
  if (!existsSync(info.node) || !existsSync(info.entry)) throw new Error(`code-server install incomplete: ${last}`);
  return info;
}

/** Packages the extension from the current build (dist/) into `outFile`. */
export async function packageVsix(outFile: string, log: Log): Promise<string> {
  const out = await runScript(join(repoRoot(), 'scripts', 'package-vsix.mjs'), ['--no-build', '--out', outFile], 180_000, log);
  const path = out.trim().split('\n').pop() ?? '';
  if (!existsSync(path)) throw new Error(`package-vsix printed ${JSON.stringify(path)}, which does not exist`);
  return path;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited early (${child.signalCode ?? 'exit ' + child.exitCode}); see its log`);
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server not healthy at ${url} after ${limitMs} ms (${last})`);
}

/** User settings that keep VS Code quiet and deterministic (E2E.md). */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.enabled': false,
  'editor.hover.delay': 150,
  'editor.minimap.enabled': false,
  'files.autoSave': 'off',
};

export interface VsCodeSession {
  url: string;
  workspace: string;
  /** Process ids of the Faultline language servers running from this session's extension. */
  languageServerPids(): number[];
  /** playwright-core Page (typed loosely: playwright-core ships its own types). */
  page: import('playwright-core').Page;
  screenshot(name: string): Promise<void>;
  /** Idempotent; kills code-server's whole process group and the browser. */
  close(): Promise<void>;
  serverLog: string;
}

/** Pids whose command line has an argument under `dir` ending in `file` (Linux /proc). */
export function processesRunning(dir: string, file: string): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.startsWith(dir + '/') && a.endsWith('/' + file))) pids.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids.sort((a, b) => a - b);
}

export interface StartOptions {
  install: CodeServerInstall;
  vsix: string;
  /** Directory copied into a temp workspace (VS Code may write .vscode/ into it). */
  workspaceSource: string;
  artifactsDir: string;
  log: Log;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
}

/** Every code-server group we started, so an abrupt exit still kills them. */
const liveGroups = new Set<number>();
function killLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  liveGroups.clear();
}
process.on('exit', killLiveGroups);
// A runner that gives up on us (Ctrl+C, a timeout's SIGTERM) must not leave VS Code running.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killLiveGroups();
    process.kill(process.pid, sig);
  });
}

export async function startVsCode(opts: StartOptions): Promise<VsCodeSession> {
  const { install, log } = opts;
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-vscode-e2e-'));
  const dirs = {
    home: join(tmp, 'home'),
    config: join(tmp, 'xdg-config'),
    data: join(tmp, 'xdg-data'),
    cache: join(tmp, 'xdg-cache'),
    state: join(tmp, 'xdg-state'),
    tmp: join(tmp, 'tmp'),
    userData: join(tmp, 'user-data'),
    extensions: join(tmp, 'extensions'),
    browser: join(tmp, 'browser'),
    workspace: join(tmp, 'workspace'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(opts.artifactsDir, { recursive: true });
  cpSync(opts.workspaceSource, dirs.workspace, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...opts.settings }, null, 2));

  const env: NodeJS.ProcessEnv = {
    PATH: `${dirname(install.node)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: dirs.state,
    TMPDIR: dirs.tmp,
    LANG: 'C.UTF-8',
    // No marketplace: nothing is fetched, nothing auto-updates.
    EXTENSIONS_GALLERY: '{"serviceUrl":"","itemUrl":"","resourceUrlTemplate":""}',
  };
  const common = ['--config', '/dev/null', '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  log(`installing ${opts.vsix}`);
  const inst = spawnSync(install.node, [install.entry, ...common, '--install-extension', opts.vsix, '--force'], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (inst.status !== 0) {
    throw new Error(`--install-extension failed (${inst.signal ?? inst.status}):\n${inst.stdout}\n${inst.stderr}`);
  }
  log(inst.stdout.trim());

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverLogPath = join(opts.artifactsDir, 'code-server.log');
  const serverLog = createWriteStream(serverLogPath);
  // detached: its own process group (setsid), so close() kills code-server, its extension host
  // and the Faultline server it started, all at once.
  const child = spawn(
    install.node,
    [
      install.entry,
      ...common,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      dirs.workspace,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid) liveGroups.add(child.pid);
  child.stdout!.pipe(serverLog, { end: false });
  child.stderr!.pipe(serverLog, { end: false });

  let browser: import('playwright-core').BrowserContext | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (browser) {
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
    }
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t0 = Date.now();
      while (Date.now() - t0 < 3000 && child.exitCode === null && child.signalCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        process.kill(-child.pid, 'SIGKILL'); // stragglers in the group (extension host, LSP server)
      } catch {
        /* all gone */
      }
      liveGroups.delete(child.pid);
    }
    serverLog.end();
    if (process.env.FAULTLINE_E2E_KEEP === '1') log(`kept ${tmp}`);
    else {
      try {
        rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      } catch (e) {
        log(`could not remove ${tmp}: ${String(e)}`); // a late writer; not the test's verdict
      }
    }
  };

  try {
    await waitHealthy(`${url}/healthz`, child, 60_000);
    log(`code-server ${install.version} healthy at ${url}`);
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found (apt-get install -y chromium)`);
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launchPersistentContext(dirs.browser, {
      executablePath: CHROMIUM,
      headless: true,
      env: { ...env, HOME: dirs.home },
      viewport: { width: 1400, height: 900 },
      timeout: 60_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
    const consoleLog = createWriteStream(join(opts.artifactsDir, 'browser-console.log'));
    page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${String(e)}\n`));
    let shot = 0;
    return {
      url,
      workspace: dirs.workspace,
      languageServerPids: () => processesRunning(dirs.extensions, 'server.js'),
      page,
      serverLog: serverLogPath,
      screenshot: async (name: string) => {
        shot++;
        const file = join(opts.artifactsDir, `${String(shot).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path: file, timeout: 15_000 }).catch((e: unknown) => log(`screenshot ${name} failed: ${String(e)}`));
      },
      close: async () => {
        consoleLog.end();
        await close();
      },
    };
  } catch (e) {
    await close();
    let tail = '';
    try {
      tail = readFileSync(serverLogPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      /* no log */
    }
    throw new Error(`${e instanceof Error ? e.message : String(e)}\ncode-server log (last lines):\n${tail}`);
  }
}
