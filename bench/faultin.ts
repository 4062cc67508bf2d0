// What the fault-in loop analysis (issue 4) adds per file: the four rules uaccess-livelock,
// fault-in-no-fault-address, fault-in-result-ignored and pagefault-disable-unbalanced, on real-
// world-sized generated files (thousands of lines, no fault-in loops: the common case) and on the
// same files with a few retry loops appended (the loop recognition plus the simulation). Prints
// figures; never asserts timings.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../engine/syntax/parser';
import { lowerC } from '../engine/lower/index';
import { runRules } from '../engine/rules/run';
import { allRules } from '../engine/rules/registry';
import { generateLargeFile } from './generate-corpus';
import { clearSimulationCache } from '../engine/rules/uaccess-livelock';

export const FAULTIN_RULES = ['uaccess-livelock', 'fault-in-no-fault-address', 'fault-in-result-ignored', 'pagefault-disable-unbalanced'];

/** The fixture loops (renamed per copy) appended to a generated file. */
export function loopFunctions(root: string, copies = 1): string {
  const dir = join(root, 'test', 'fixtures', 'uaccess-livelock');
  const files = readdirSync(dir).filter((f) => f.endsWith('.c')).sort();
  const parts: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const f of files) parts.push(readFileSync(join(dir, f), 'utf8').replace(/\bdemo_/g, `demo${c}x${f.length}_`).replace(/\/\/ expect: [a-z-]+/g, ''));
  }
  return parts.join('\n');
}

export interface FaultInFigures {
  lines: number;
  functions: number;
  /** Median of runs, ms. */
  otherRulesMs: number;
  faultInRulesMs: number;
  withLoops: { lines: number; loops: number; faultInRulesMs: number; findings: number; cachedMs: number };
  falseFindingsOnPlainFile: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function measureFaultIn(root = join(__dirname, '..', '..'), runs = 5): Promise<FaultInFigures> {
  const parser = await loadCParser();
  const plain = generateLargeFile(5000);
  const ir = lowerC(parser, plain);
  const others = allRules.map((r) => r.meta.id).filter((id) => !FAULTIN_RULES.includes(id));
  const time = (text: string, fir: ReturnType<typeof lowerC>, rules: string[]): { ms: number; findings: number } => {
    const ms: number[] = [];
    let findings = 0;
    // Warm the JIT first; every measured run starts without cached simulations (the cold cost).
    for (let i = 0; i < 2; i++) runRules(fir, text, { rules });
    for (let i = 0; i < runs; i++) {
      clearSimulationCache();
      const t0 = performance.now();
      findings = runRules(fir, text, { rules }).length;
      ms.push(performance.now() - t0);
    }
    return { ms: median(ms), findings };
  };
  const base = time(plain, ir, others);
  const ours = time(plain, ir, FAULTIN_RULES);
  const withLoopsText = `${plain}\n${loopFunctions(root)}`;
  const ir2 = lowerC(parser, withLoopsText);
  const loops = (withLoopsText.match(/fault_in_/g) ?? []).length;
  const ours2 = time(withLoopsText, ir2, FAULTIN_RULES);
  // The editor's re-check of an unchanged file: simulations come from the cache.
  runRules(ir2, withLoopsText, { rules: FAULTIN_RULES });
  const c0 = performance.now();
  runRules(ir2, withLoopsText, { rules: FAULTIN_RULES });
  const cachedMs = performance.now() - c0;
  return {
    lines: plain.split('\n').length, functions: ir.functions.length, otherRulesMs: base.ms, faultInRulesMs: ours.ms,
    withLoops: { lines: withLoopsText.split('\n').length, loops, faultInRulesMs: ours2.ms, findings: ours2.findings, cachedMs },
    falseFindingsOnPlainFile: ours.findings,
  };
}

export async function benchFaultIn(): Promise<void> {
  const f = await measureFaultIn();
  const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
  console.log('fault-in loop analysis (uaccess-livelock, fault-in-no-fault-address, fault-in-result-ignored, pagefault-disable-unbalanced)');
  console.log(`  generated file: ${f.lines} lines, ${f.functions} functions, no fault-in loops`);
  console.log(`  GUP rules: ${fmt(f.otherRulesMs)} ms; the four fault-in rules add ${fmt(f.faultInRulesMs)} ms per file; findings: ${f.falseFindingsOnPlainFile} (expected 0)`);
  console.log(`  with the uaccess-livelock fixtures appended (${f.withLoops.lines} lines, ${f.withLoops.loops} fault_in_* calls): ${fmt(f.withLoops.faultInRulesMs)} ms, ${f.withLoops.findings} findings (each loop simulated under 3 profiles); re-check with cached simulations: ${fmt(f.withLoops.cachedMs)} ms`);
}

if (require.main === module) void benchFaultIn();
