// Bad input never crashes or hangs (brief, ARCHITECTURE.md): every fixture, mutated many ways
// (lines dropped, duplicated, swapped, truncated), goes through parse + lower + the rules with
// no `degraded` note (a rule threw) and within a generous time bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';

function fixtureFiles(): string[] {
  let dir = __dirname;
  for (let i = 0; i < 6 && !existsSync(join(dir, 'test', 'fixtures')); i++) dir = join(dir, '..');
  const acc: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.c') && /gup-/.test(p)) acc.push(p);
    }
  };
  walk(join(dir, 'test', 'fixtures'));
  return acc;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const i = Math.floor(r() * lines.length);
  const j = Math.floor(r() * lines.length);
  switch (Math.floor(r() * 4)) {
    case 0: lines.splice(i, 1); break;
    case 1: lines.splice(i, 0, lines[j]); break;
    case 2: [lines[i], lines[j]] = [lines[j], lines[i]]; break;
    default: return text.slice(0, Math.floor(r() * text.length));
  }
  return lines.join('\n');
}

test('mutated GUP fixtures never make a rule throw or hang', async () => {
  const parser = await loadCParser();
  const r = rng(42);
  let runs = 0;
  const t0 = performance.now();
  for (const f of fixtureFiles()) {
    let text = readFileSync(f, 'utf8');
    for (let k = 0; k < 12; k++) {
      text = k % 4 === 0 ? readFileSync(f, 'utf8') : text;
      const m = mutate(text, r);
      const ir = lowerC(parser, m);
      const findings = runRules(ir, m);
      const degraded = findings.filter((x) => x.rule === 'degraded');
      assert.deepEqual(degraded.map((d) => d.message), [], `${f} mutation ${k}:\n${m}`);
      text = m;
      runs++;
    }
  }
  const ms = performance.now() - t0;
  console.log(`# ${runs} mutated runs in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 60_000);
});
