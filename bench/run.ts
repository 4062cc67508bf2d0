// `npm run bench`: prints figures, asserts nothing (timings are not tests).
//   1. check throughput (lines/s) over a generated corpus of >= 200 kernel-style files (>= 100k lines),
//      in-process, median of repeated runs; plus the CLI end to end on the same directory;
//   2. edit -> diagnostics latency on a 5,000-line file through the server's DocumentSession;
//   3. the extra cost of the fault-in loop rules per file (bench/faultin.ts, issue 4);
//   4. the simulator's scenario suite (bench/sim.ts);
//   5. the whole Linux 6.1 tree beside grep: cold and warm cache, lines/s, peak RSS (bench/tree.ts);
//   6. the uaccess-livelock simulation per kernel-shaped function, beside the former state keys (bench/sim.ts, issue 10).
// Targets from issue 2: >= 100k lines/s single process; <= 20 ms median latency.
// Target from issue 3: whole scenario suite <= 1 s; partial-order reduction >= 10x.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateCorpus, generateLargeFile } from './generate-corpus';
import { BLANK_IRRELEVANT, createEngine } from '../engine/engine';
import { DocumentSession } from '../engine/session';
import { benchLoops, benchReductions, benchSim } from './sim';
import { benchEditorSim } from './sim-editor';
import { benchFaultIn } from './faultin';
import { benchTree } from './tree';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function benchThroughput(runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  try {
    const corpus = generateCorpus(dir);
    const texts = corpus.files.map((f) => ({ path: f, text: readFileSync(f, 'utf8') }));
    const engine = await createEngine();
    // One pass over the corpus: its time and the findings it gave.
    const pass = (): { ms: number; findings: number } => {
      const t0 = performance.now();
      let n = 0;
      for (const { path, text } of texts) {
        const res = engine.analyzeC(text, { path, skipIrrelevant: true });
        n += res.findings.length;
        res.tree?.delete();
      }
      return { ms: performance.now() - t0, findings: n };
    };
    const times: number[] = [];
    let findings = 0;
    // One untimed warm-up pass: the first pass mostly measures V8 compiling the engine (the CLI
    // line below shows the cold, single-pass figure separately).
    for (let run = -1; run < runs; run++) {
      const r = pass();
      if (run >= 0) times.push(r.ms);
      findings = r.findings;
    }
    const ms = median(times);
    // The batch shortcut of blanking irrelevant functions before the parse, switched off on the
    // same engine and corpus (its cost: the CLI and the server must give the same findings).
    const noBlank: number[] = [];
    BLANK_IRRELEVANT.enabled = false;
    let noBlankFindings = 0;
    try {
      for (let run = 0; run < runs; run++) {
        const r = pass();
        noBlank.push(r.ms);
        noBlankFindings = r.findings;
      }
    } finally {
      BLANK_IRRELEVANT.enabled = true;
    }
    console.log(`check throughput (in-process, ${runs} runs after one warm-up pass)`);
    console.log(`  corpus: ${corpus.files.length} files, ${fmt(corpus.lines, 0)} lines, ${findings} findings`);
    console.log(`  median ${fmt(ms)} ms  ->  ${fmt(corpus.lines / (ms / 1000), 0)} lines/s (target >= 100,000; ratio ${fmt(corpus.lines / (ms / 1000) / 100000, 2)}x)`);
    console.log(`  min ${fmt(Math.min(...times))} ms, max ${fmt(Math.max(...times))} ms`);
    const nb = median(noBlank);
    console.log(`  without blanking irrelevant functions before the parse: median ${fmt(nb)} ms -> ${fmt(corpus.lines / (nb / 1000), 0)} lines/s (${fmt((nb / ms - 1) * 100)}% slower), ${noBlankFindings} findings`);

    const cli = join(__dirname, '..', '..', 'bin', 'faultline');
    const cliTimes: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [cli, 'check', '--format', 'json', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
      cliTimes.push(performance.now() - t0);
      if (r.status !== 0 && r.status !== 1) {
        console.log(`  CLI failed (exit ${r.status}): ${r.stderr.split('\n')[0]}`);
        break;
      }
    }
    const cms = median(cliTimes);
    console.log(`  CLI end to end (process start, walk, read, check, JSON out), median of ${cliTimes.length}: ${fmt(cms)} ms -> ${fmt(corpus.lines / (cms / 1000), 0)} lines/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchLatency(edits: number): Promise<void> {
  const engine = await createEngine();
  const text = generateLargeFile(5000);
  const lines = text.split('\n');
  const session = new DocumentSession(engine, 'file:///bench/big.c', '/bench/big.c', text);
  session.analyze();
  // Edit inside a function in the middle of the file, alternating between inserting a leaking
  // early return and removing it again, so every edit changes the findings of that function.
  const target = lines.findIndex((l, i) => i > lines.length / 2 && l.includes('if (npinned != nr_pages) {'));
  if (target < 0) throw new Error('bench: no edit target in the generated file');
  const bug = '\tif (dev->abort) return -EINTR;\n';
  const times: number[] = [];
  let inserted = false;
  let counts = new Set<number>();
  for (let i = 0; i < edits; i++) {
    const t0 = performance.now();
    if (!inserted) {
      session.applyChange({ range: { start: { line: target, character: 0 }, end: { line: target, character: 0 } }, text: bug });
    } else {
      session.applyChange({ range: { start: { line: target, character: 0 }, end: { line: target + 1, character: 0 } }, text: '' });
    }
    inserted = !inserted;
    const result = session.analyze();
    times.push(performance.now() - t0);
    counts.add(result.findings.length);
  }
  console.log(`edit -> diagnostics latency, 5,000-line file (${lines.length} lines), ${edits} edits`);
  console.log(`  median ${fmt(median(times), 2)} ms, p95 ${fmt(percentile(times, 95), 2)} ms, max ${fmt(Math.max(...times), 2)} ms (target median <= 20 ms; ratio ${fmt(20 / median(times), 1)}x under)`);
  console.log(`  finding counts seen across edits: ${[...counts].sort((a, b) => a - b).join(', ')} (must differ: the edit adds and removes a leak)`);
  // Full re-analysis of the same file from scratch, for comparison with the incremental path.
  const full: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    engine.analyzeC(session.text, { path: '/bench/big.c' });
    full.push(performance.now() - t0);
  }
  console.log(`  full re-analysis of the file (no session), median ${fmt(median(full), 2)} ms`);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sections: [string, () => Promise<void>][] = [
    ['throughput', () => benchThroughput(quick ? 2 : 5)],
    ['latency', () => benchLatency(quick ? 20 : 100)],
    ['faultin', () => benchFaultIn()],
    ['simulator', () => benchSim()],
    ['tree', () => benchTree()],
    ['reductions', () => benchReductions()],
    ['editor-sim', () => benchEditorSim()],
    ['sim-loops', () => benchLoops()],
  ];
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  for (const [name, run] of sections) {
    if (only.length && !only.includes(name)) continue;
    console.log(`\n== ${name}`);
    try {
      await run();
    } catch (err) {
      console.log(`  ${name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}

void main();
