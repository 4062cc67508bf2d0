// `npm test`: build, then run every compiled test file under out/test with node's test runner.
// Editor end-to-end tests (test/e2e) run too; outside CI they may be skipped by setting
// FAULTLINE_SKIP_E2E=1, and then they are reported as skipped, never as passed.
// The tests run with TMPDIR set to a fresh directory: whatever a test (or a program it starts)
// leaves there is listed and fails the run, and the directory is removed either way, so the
// suite leaves nothing behind in /tmp.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

if (!process.env.FAULTLINE_NO_BUILD) {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

function collect(dir, acc) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, acc);
    else if (name.endsWith('.test.js')) acc.push(p);
  }
  return acc;
}
let files = collect(join(root, 'out', 'test'), []);
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('run-tests: no test files found under out/test');
  process.exit(1);
}

// The editor end-to-end tests need Neovim, Chromium and code-server. When they are about to run
// and something is missing, install it now (.ci/e2e-deps: Debian packages with root or sudo,
// code-server from npm into a cache outside the clone), so `npm test` works on a fresh machine.
const e2eSelected = files.some((f) => f.includes(`${join('out', 'test', 'e2e')}`));
if (e2eSelected && process.env.FAULTLINE_SKIP_E2E !== '1' && !process.env.FAULTLINE_E2E_DEPS_DONE) {
  const has = (cmd) => spawnSync('sh', ['-c', `command -v "$1"`, 'sh', cmd], { stdio: 'ignore' }).status === 0;
  const codeServer = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-code-server.mjs'), '--check'], { stdio: 'ignore' }).status === 0;
  const missing = [!has('nvim') && 'neovim', !existsSync('/usr/bin/chromium') && 'chromium', !codeServer && 'code-server'].filter(Boolean);
  if (missing.length) {
    console.error(`run-tests: the editor end-to-end tests need ${missing.join(', ')}; installing (bash .ci/e2e-deps)`);
    const deps = spawnSync('bash', [join(root, '.ci', 'e2e-deps')], { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
    if (deps.status !== 0) {
      console.error('run-tests: could not install what the editor end-to-end tests need (root or passwordless sudo is needed for the Debian packages). ' +
        'Install them (see README.md, "Prerequisites"), or run FAULTLINE_SKIP_E2E=1 npm test to skip those tests.');
      process.exit(deps.status ?? 1);
    }
  }
}
// The real-code test checks the whole Linux 6.1 tree from Debian's linux-source-6.1. When it is
// selected and no tree is known, fetch and unpack it once (scripts/ensure-linux-tree.sh: apt
// with root or sudo, cached outside the clone) so `npm test` on a fresh machine runs it too.
// FAULTLINE_SKIP_REALCODE=1 skips the test (it is then reported as skipped) outside CI.
const realcodeSelected = files.some((f) => f.includes(join('out', 'test', 'realcode', 'linux-6.1')));
if (realcodeSelected && process.env.FAULTLINE_SKIP_REALCODE !== '1' && !process.env.FAULTLINE_LINUX_TREE) {
  const tree = spawnSync('bash', [join(root, 'scripts', 'ensure-linux-tree.sh')], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root, encoding: 'utf8' });
  if (tree.status === 0 && tree.stdout.trim()) process.env.FAULTLINE_LINUX_TREE = tree.stdout.trim().split('\n').pop();
  else console.error('run-tests: could not fetch the Linux 6.1 tree (scripts/ensure-linux-tree.sh); the real-code test will say so');
}
const scratch = mkdtempSync(join(tmpdir(), 'faultline-tests-'));
let status;
let leftovers = [];
try {
  // The editor end-to-end tests drive a real browser and editor with timeouts: they run after
  // the others, one at a time, so they never share the two cores with the whole-tree test or the
  // fuzz slice (CI on a fresh clone saw clicks and the command palette time out beside them).
  const isE2e = (f) => f.includes(join('out', 'test', 'e2e'));
  const phases = [
    { files: files.filter((f) => !isE2e(f)), concurrency: 2 },
    { files: files.filter(isE2e), concurrency: 1 },
  ].filter((ph) => ph.files.length);
  status = 0;
  for (const ph of phases) {
    const run = spawnSync(process.execPath, ['--test', `--test-concurrency=${ph.concurrency}`, ...ph.files], {
      stdio: 'inherit', cwd: root, env: { ...process.env, TMPDIR: scratch, TMP: scratch, TEMP: scratch },
    });
    if (status === 0) status = run.status ?? 1;
  }
  leftovers = readdirSync(scratch);
} finally {
  rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
if (leftovers.length) {
  console.error(`run-tests: the tests left ${leftovers.length} entr${leftovers.length === 1 ? 'y' : 'ies'} in the temporary directory (removed now): ${leftovers.slice(0, 20).join(', ')}`);
  if (status === 0) status = 1;
}
process.exit(status);
