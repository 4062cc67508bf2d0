// `npm run fuzz [-- --count N] [--seconds S] [--seed N] [--from I] [--workers N] [--timeout S] [--wall-timeout S] [--size-limit-every N] [--no-build]`
//
// Runs generated inputs (test/robust/fuzz.ts: random and mutated C from our fixtures, deep
// nesting, long lines, inputs at the size limit, broken patches and mboxes, odd encodings, the
// issue's reproducers) through the CLI, the engine and a server session, and compares them.
//
// Child processes (`--workers N`, default 1; the machine is shared) each run blocks of inputs
// and live for many blocks (the engine and the parser load once per child). A hang is what the
// robustness issue means by it, an input past its budget, counted in the CHILD'S CPU TIME
// (/proc/<pid>/stat, all threads), so a loaded machine does not make one: past `--timeout` CPU
// seconds (default 60) the input is recorded as a hang, the child is killed and a new one resumes
// after it. A wall-clock backstop (`--wall-timeout`, default max(600, 10 x timeout) seconds)
// stops an input that makes no progress for other reasons; it is reported separately as "slow
// under load" (not a hang, not a failure; re-run it alone with --from I --count 1). Where /proc is
// missing, the timeout is wall-clock and past it is a hang, as before. A child that dies (out of
// memory, a crash) records a crash and is replaced the same way. Peak resident memory is measured
// per input, as the largest of its faces' peaks: the child resets its peak (VmHWM, through
// /proc/self/clear_refs) before each face of each input, after collecting garbage when it is
// large (in real use each face is a process of its own); without that, the child's peak so far
// is used and a new peak is attributed to the input that raised it (the summary's peakRssIs says
// which). Failing and slow inputs are written to test-artifacts/fuzz/ with what went wrong.
// Exit status 0 when there was no crash, hang, difference or input over the memory goal.

import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return dflt;
  const v = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  return Number(v);
};
const seed = flag('seed', 1);
const from = flag('from', 0);
const count = flag('count', argv.some((a) => a.startsWith('--seconds')) ? Infinity : 1000);
const seconds = flag('seconds', Infinity);
const timeoutMs = flag('timeout', 60) * 1000;
const wallTimeoutMs = flag('wall-timeout', Math.max(600, (10 * timeoutMs) / 1000)) * 1000;
const sizeLimitEvery = flag('size-limit-every', 2000);
const workers = Math.max(1, Math.floor(flag('workers', 1)));
/** Inputs a child is given at a time (the next block goes to whichever child is free). */
const BLOCK = Math.max(1, Math.floor(flag('block', 25)));
const MEMORY_GOAL = 1024 * 1024 * 1024;

if (!argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const require = createRequire(import.meta.url);
const { makeInput } = require(join(root, 'out', 'test', 'robust', 'fuzz.js'));
const artifacts = join(root, 'test-artifacts', 'fuzz');
mkdirSync(artifacts, { recursive: true });
// The children write each input here (in memory where possible: test/robust/fuzz.ts); a killed
// child cannot clean up after itself, so the driver removes the whole directory at the end.
const scratch = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'faultline-fuzz-run-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

// ---- a child's CPU time and memory, read from outside (a child stuck in a loop cannot answer) ----

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time (user + system, every thread) of a process so far, ms, and whether its main thread is
 * runnable (running or waiting for a core, as under load) rather than asleep or blocked;
 * undefined without /proc.
 */
function procCpu(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? { ms: (ticks * 1000) / CLK_TCK, runnable: f[0] === 'R' } : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident memory of a live process, bytes (VmHWM); undefined without /proc. */
function procPeakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---- the run ----------------------------------------------------------------------------------

const deadline = Date.now() + seconds * 1000;
const end = from + count;
const stats = {
  inputs: 0, crashes: 0, hangs: 0, slowUnderLoad: 0, differences: 0, failures: 0, overMemory: 0, peakRss: 0, peakInput: -1,
  cpuMs: 0, byKind: {}, slowest: { cpuMs: 0, wallMs: 0, i: -1 }, perInputPeaks: 0,
};
const failures = [];
const slow = [];
let nextIndex = from;
const children = new Set();
const loadStart = loadavg();

function record(i, what, problems) {
  const input = makeInput(seed, i, { sizeLimitEvery });
  const base = join(artifacts, `seed${seed}-${i}-${what}`);
  if (input.text.length < 1_000_000) writeFileSync(`${base}.${input.name.split('.').pop()}`, input.text);
  writeFileSync(`${base}.txt`, `seed ${seed} input ${i} kind ${input.kind} bytes ${input.text.length}\n${problems.join('\n')}\n`);
  const entry = { i, what, kind: input.kind, problems: problems.map((p) => p.split('\n')[0]).slice(0, 3) };
  if (what === 'slow') slow.push(entry); else failures.push(entry);
}

/** The next block of inputs to run, or undefined when the run is over. */
function takeBlock() {
  if (nextIndex >= end || Date.now() > deadline) return undefined;
  const block = { from: nextIndex, to: Math.min(end, nextIndex + BLOCK) };
  nextIndex = block.to;
  return block;
}

function perMinute(inputs, ms) {
  return ms > 0 ? Math.round((inputs * 60_000) / ms) : 0;
}

const t0 = Date.now();

/**
 * One worker slot: a child that runs blocks until there are none. A hang, a slow input or a
 * crash kills the child; a new one resumes the rest of the block after the input.
 */
function runSlot() {
  return new Promise((resolveSlot) => {
    const startChild = (block) => {
      if (!block) return resolveSlot();
      const proc = fork(join(root, 'out', 'test', 'robust', 'fuzz-worker.js'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=4096', '--expose-gc'], env: { ...process.env, FAULTLINE_FUZZ_TMP: scratch } });
      children.add(proc);
      let current = -1;
      let startedAt = 0;
      let cpuAtStart;
      // Watcher ticks of the current input, and those that found the child runnable.
      let ticks = 0;
      let runnableTicks = 0;
      let prevPeak = 0;
      let finished = false;
      let quitSent = false;
      let blockTo = block.to;
      proc.stderr.on('data', () => {});
      const give = (b) => {
        blockTo = b.to;
        proc.send({ seed, from: b.from, to: b.to, sizeLimitEvery });
      };
      // Stop this child after input `i` went wrong; a new child resumes after it.
      const abandon = (i) => {
        finished = true;
        clearInterval(timer);
        proc.kill('SIGKILL');
        const rest = i + 1 < blockTo ? { from: i + 1, to: blockTo } : takeBlock();
        startChild(rest);
      };
      const timer = setInterval(() => {
        if (finished || current < 0) return;
        const wall = Date.now() - startedAt;
        const now = procCpu(proc.pid);
        const cpu = now !== undefined && cpuAtStart !== undefined ? now.ms - cpuAtStart : undefined;
        ticks++;
        if (now?.runnable) runnableTicks++;
        const peak = procPeakRss(proc.pid);
        const mem = peak !== undefined ? `, peak RSS ${Math.round(peak / 1048576)} MiB` : '';
        if (cpu !== undefined ? cpu > timeoutMs : wall > timeoutMs) {
          stats.hangs++;
          record(current, 'hang', [cpu !== undefined ? `no result after ${timeoutMs / 1000} s of CPU time (${Math.round(wall / 1000)} s wall${mem})` : `no result after ${timeoutMs / 1000} s (wall clock: no /proc to read CPU time${mem})`]);
          abandon(current);
        } else if (cpu !== undefined && wall > wallTimeoutMs) {
          const cpuS = (cpu / 1000).toFixed(1);
          if (runnableTicks * 2 < ticks) {
            // Mostly asleep, not waiting for a core: blocked (on a read, a lock): a hang.
            stats.hangs++;
            record(current, 'hang', [`no result after ${Math.round(wall / 1000)} s wall with ${cpuS} s of CPU time, blocked (runnable in ${runnableTicks} of ${ticks} samples)${mem}`]);
          } else {
            stats.slowUnderLoad++;
            record(current, 'slow', [`no result after ${Math.round(wall / 1000)} s wall with only ${cpuS} s of CPU time, runnable in ${runnableTicks} of ${ticks} samples (the machine is loaded; not a hang: re-run with --from ${current} --count 1)${mem}`]);
          }
          abandon(current);
        }
      }, 250);
      proc.on('message', (m) => {
        // A killed child's last words (a result that crossed the kill) are not counted.
        if (finished) return;
        if (m.t === 'start') {
          current = m.i;
          startedAt = Date.now();
          cpuAtStart = procCpu(proc.pid)?.ms;
          ticks = 0;
          runnableTicks = 0;
          stats.byKind[m.kind] = (stats.byKind[m.kind] ?? 0) + 1;
        } else if (m.t === 'done') {
          stats.inputs++;
          const o = m.outcome;
          stats.cpuMs += m.cpuMs ?? 0;
          if ((m.cpuMs ?? o.ms) > stats.slowest.cpuMs) stats.slowest = { cpuMs: Math.round(m.cpuMs ?? o.ms), wallMs: o.ms, i: m.i, kind: o.kind };
          if (m.maxRss > stats.peakRss) { stats.peakRss = m.maxRss; stats.peakInput = m.i; }
          // Per input (the child resets its peak before each one, fuzz-worker.ts) where Linux
          // allows it; else the child's peak so far, and only a new peak is this input's doing.
          if (m.perInputPeak) stats.perInputPeaks++;
          if ((m.perInputPeak || m.maxRss > prevPeak) && m.maxRss > MEMORY_GOAL) { stats.overMemory++; record(m.i, 'memory', [`peak RSS ${Math.round(m.maxRss / 1048576)} MiB${m.perInputPeak ? ` (this input; by face, MiB: ${JSON.stringify(m.faceMiB ?? {})})` : ''}`]); }
          prevPeak = Math.max(prevPeak, m.maxRss);
          if (o.problems.length) {
            const crash = o.problems.some((p) => /threw|internal error|degraded|exit|JSON|could not analyze/.test(p));
            if (crash) stats.crashes++; else stats.differences++;
            stats.failures++;
            record(m.i, crash ? 'crash' : 'diff', o.problems);
          }
          current = -1;
          if (stats.inputs % 500 === 0) {
            process.stderr.write(`fuzz: ${stats.inputs} inputs (next ${nextIndex}), ${stats.failures} failing, ${stats.hangs} hangs, ${stats.slowUnderLoad} slow under load, peak RSS ${Math.round(stats.peakRss / 1048576)} MiB, ${perMinute(stats.inputs, Date.now() - t0)} inputs/min, load ${loadavg()[0].toFixed(1)}\n`);
          }
          // A wasm heap never shrinks: a child past the goal would start every later input that
          // large (and, measured as the lifetime peak, lend its peak to it). The rest runs in a
          // fresh child, so each over-goal record names the input that made it.
          if (m.maxRss > MEMORY_GOAL) abandon(m.i);
        } else if (m.t === 'end') {
          const next = takeBlock();
          if (next) give(next);
          else { finished = true; quitSent = true; proc.send({ quit: true }); }
        }
      });
      proc.on('exit', (code, signal) => {
        clearInterval(timer);
        children.delete(proc);
        // Told to quit: the slot is done. Killed after a hang or a slow input: a new child
        // already took over.
        if (quitSent) return resolveSlot();
        if (finished) return;
        // Died on its own: the input it was on is a crash; a new child resumes after it.
        const at = current >= 0 ? current : block.from;
        stats.crashes++;
        record(at, 'crash', [`worker died (code ${code}, signal ${signal})`]);
        finished = true;
        const rest = at + 1 < blockTo ? { from: at + 1, to: blockTo } : takeBlock();
        startChild(rest);
      });
      give(block);
    };
    startChild(takeBlock());
  });
}

function summarize() {
  const ms = Date.now() - t0;
  return {
    seed, from, to: nextIndex, workers, inputs: stats.inputs, seconds: Math.round(ms / 1000), inputsPerMinute: perMinute(stats.inputs, ms),
    cpuSeconds: Math.round(stats.cpuMs / 1000), cpuMsPerInput: stats.inputs ? Math.round(stats.cpuMs / stats.inputs) : 0,
    loadAverage: { start: loadStart.map((x) => Number(x.toFixed(1))), end: loadavg().map((x) => Number(x.toFixed(1))) },
    crashes: stats.crashes, hangs: stats.hangs, differences: stats.differences, overMemoryGoal: stats.overMemory,
    slowUnderLoad: stats.slowUnderLoad, hangBudget: { cpuSeconds: timeoutMs / 1000, wallBackstopSeconds: wallTimeoutMs / 1000 },
    peakRssMiB: Math.round(stats.peakRss / 1048576), peakInput: stats.peakInput,
    peakRssIs: stats.perInputPeaks === stats.inputs ? 'per input' : stats.perInputPeaks ? `per input for ${stats.perInputPeaks} of ${stats.inputs}` : 'child lifetime', slowest: stats.slowest, byKind: stats.byKind,
    failures: failures.slice(0, 50), slow: slow.slice(0, 50),
  };
}
// Stopped from outside (Ctrl-C, kill): the children go too, and what was run is still reported.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  for (const c of children) c.kill('SIGKILL');
  console.log(JSON.stringify({ ...summarize(), stoppedBy: sig }, null, 2));
  process.exit(130);
});
await Promise.all(Array.from({ length: workers }, () => runSlot()));
const summary = summarize();
console.log(JSON.stringify(summary, null, 2));
process.exit(stats.crashes + stats.hangs + stats.differences + stats.overMemory === 0 ? 0 : 1);
