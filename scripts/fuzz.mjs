// `npm run fuzz [-- --count N] [--seconds S] [--seed N] [--from I] [--timeout S] [--size-limit-every N] [--no-build]`
//
// Runs generated inputs (test/robust/fuzz.ts: random and mutated C from our fixtures, deep
// nesting, long lines, inputs at the size limit, broken patches and mboxes, odd encodings, the
// issue's reproducers) through the CLI, the engine and a server session, and compares them. One
// child process at a time (the machine is shared); each input has a wall-clock timeout: past it
// the input is recorded as a hang, the child is killed and a new one resumes after it. A child
// that dies (out of memory, a crash) records a crash and is replaced the same way. The peak
// resident memory of the child is tracked per input (a new peak is attributed to the input that
// raised it). Failing inputs are written to test-artifacts/fuzz/ with what went wrong.
// Exit status 0 when there was no crash, hang, difference or input over the memory goal.

import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const sizeLimitEvery = flag('size-limit-every', 2000);
const MEMORY_GOAL = 1024 * 1024 * 1024;

if (!argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const require = createRequire(import.meta.url);
const { makeInput } = require(join(root, 'out', 'test', 'robust', 'fuzz.js'));
const artifacts = join(root, 'test-artifacts', 'fuzz');
mkdirSync(artifacts, { recursive: true });

const deadline = Date.now() + seconds * 1000;
const end = from + count;
const stats = { inputs: 0, crashes: 0, hangs: 0, differences: 0, failures: 0, overMemory: 0, peakRss: 0, peakInput: -1, byKind: {}, slowest: { ms: 0, i: -1 } };
const failures = [];

function record(i, what, problems) {
  const input = makeInput(seed, i, { sizeLimitEvery });
  const base = join(artifacts, `seed${seed}-${i}-${what}`);
  if (input.text.length < 1_000_000) writeFileSync(`${base}.${input.name.split('.').pop()}`, input.text);
  writeFileSync(`${base}.txt`, `seed ${seed} input ${i} kind ${input.kind} bytes ${input.text.length}\n${problems.join('\n')}\n`);
  failures.push({ i, what, kind: input.kind, problems: problems.map((p) => p.split('\n')[0]).slice(0, 3) });
}

async function runChild(start) {
  return new Promise((resolve) => {
    const proc = fork(join(root, 'out', 'test', 'robust', 'fuzz-worker.js'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    child = proc;
    let current = -1;
    let startedAt = 0;
    let prevPeak = 0;
    let finished = false;
    proc.stderr.on('data', () => {});
    const timer = setInterval(() => {
      if (!finished && current >= 0 && Date.now() - startedAt > timeoutMs) {
        // Once: this child is done for; a new one resumes after the input.
        clearInterval(timer);
        stats.hangs++;
        record(current, 'hang', [`no result after ${timeoutMs / 1000} s`]);
        finished = true;
        proc.kill('SIGKILL');
        resolve(current + 1);
      }
    }, 250);
    proc.on('message', (m) => {
      if (m.t === 'start') {
        current = m.i;
        startedAt = Date.now();
        stats.byKind[m.kind] = (stats.byKind[m.kind] ?? 0) + 1;
      } else if (m.t === 'done') {
        stats.inputs++;
        const o = m.outcome;
        if (o.ms > stats.slowest.ms) stats.slowest = { ms: o.ms, i: m.i, kind: o.kind };
        if (m.maxRss > stats.peakRss) { stats.peakRss = m.maxRss; stats.peakInput = m.i; }
        if (m.maxRss > prevPeak && m.maxRss > MEMORY_GOAL) { stats.overMemory++; record(m.i, 'memory', [`peak RSS ${Math.round(m.maxRss / 1048576)} MiB`]); }
        prevPeak = Math.max(prevPeak, m.maxRss);
        if (o.problems.length) {
          const crash = o.problems.some((p) => /threw|internal error|degraded|exit|JSON|could not analyze/.test(p));
          if (crash) stats.crashes++; else stats.differences++;
          stats.failures++;
          record(m.i, crash ? 'crash' : 'diff', o.problems);
        }
        current = -1;
        if (stats.inputs % 500 === 0) process.stderr.write(`fuzz: ${stats.inputs} inputs (at ${m.i}), ${stats.failures} failing, ${stats.hangs} hangs, peak RSS ${Math.round(stats.peakRss / 1048576)} MiB\n`);
        if (Date.now() > deadline) { finished = true; proc.kill('SIGKILL'); resolve(end); }
      } else if (m.t === 'end') {
        finished = true;
      }
    });
    proc.on('exit', (code, signal) => {
      clearInterval(timer);
      if (finished) return resolve(current >= 0 ? current + 1 : end);
      stats.crashes++;
      record(Math.max(current, start), 'crash', [`worker died (code ${code}, signal ${signal})`]);
      resolve(Math.max(current, start) + 1);
    });
    proc.send({ seed, from: start, to: end, sizeLimitEvery });
  });
}

const t0 = Date.now();
let next = from;
let child;
function summarize() {
  return {
  seed, from, to: next, inputs: stats.inputs, seconds: Math.round((Date.now() - t0) / 1000),
  crashes: stats.crashes, hangs: stats.hangs, differences: stats.differences, overMemoryGoal: stats.overMemory,
  peakRssMiB: Math.round(stats.peakRss / 1048576), peakInput: stats.peakInput, slowest: stats.slowest, byKind: stats.byKind, failures: failures.slice(0, 50),
  };
}
// Stopped from outside (Ctrl-C, kill): the child goes too, and what was run is still reported.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  child?.kill('SIGKILL');
  console.log(JSON.stringify({ ...summarize(), stoppedBy: sig }, null, 2));
  process.exit(130);
});
while (next < end && Date.now() < deadline) next = await runChild(next);
const summary = summarize();
console.log(JSON.stringify(summary, null, 2));
process.exit(stats.crashes + stats.hangs + stats.differences + stats.overMemory === 0 ? 0 : 1);
