#!/usr/bin/env node
// Simulation verdicts on real code (issue 11 item 7): pick the functions of a kernel tree that
// call a fault_in_*() helper, disable page faults (pagefault_disable(), kmap_atomic()...) or copy
// with faults not serviced (*_nofault, *_inatomic) directly (the API table says which calls those
// are), run `faultline simulate` on each (every profile, the tree's kernel version), and
// count the verdicts. A lock or reference a function did not take is its caller's precondition;
// a failure that rests on one is `inconclusive`, not an error — this is the run that checks it.
//
//   node scripts/sim-sweep.mjs [--tree DIR] [--max N] [--kernel vX.Y] [--json FILE] [--dir D]...
//
// --max   functions at most (default 200), an even spread over the sorted (path, function) list.
// --dir   only these directories of the tree (relative to its root; repeatable).
// --json  write every function's verdicts there ({path, function, profiles, verdict, note, bound}).
// Prints one line per failing or inconclusive function and the counts. Run it under `nice`: it
// simulates one function after another on one core (several minutes for 200).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = (p) => join(root, 'out', p);
if (!existsSync(out('engine/sim/simulate-function.js'))) {
  console.error('sim-sweep: build first (node scripts/build.mjs)');
  process.exit(2);
}
const { simulateFunction } = require(out('engine/sim/simulate-function.js'));
const { lookupApi } = require(out('engine/kernel/api-table.js'));
const { loadCParser } = require(out('engine/syntax/parser.js'));
const { lowerC } = require(out('engine/lower/index.js'));
const { treeRootVersion } = require(out('engine/input/tree-version.js'));
const { findTree } = require(out('test/realcode/baseline.js'));

const opts = { tree: undefined, max: 200, kernel: undefined, json: undefined, dirs: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => argv[++i];
  if (a === '--tree') opts.tree = val();
  else if (a === '--max') opts.max = Number(val());
  else if (a === '--kernel') opts.kernel = val();
  else if (a === '--json') opts.json = val();
  else if (a === '--dir') opts.dirs.push(val());
  else { console.error(`sim-sweep: unknown argument ${a}`); process.exit(2); }
}
if (opts.tree === undefined) {
  const found = findTree(root);
  if (!found.path) { console.error(`sim-sweep: no Linux tree (--tree DIR): ${found.message}`); process.exit(2); }
  opts.tree = found.path;
}

/** The tree's own version (its top-level Makefile, as the CLI reads it), unless --kernel says otherwise. */
function treeKernel() {
  return opts.kernel ?? treeRootVersion(opts.tree)?.version;
}

const kernel = treeKernel();
const where = opts.dirs.length ? opts.dirs.map((d) => join(opts.tree, d)) : [opts.tree];
const grep = spawnSync('grep', ['-rlE', '--include=*.c', 'fault_in_[a-z_]+\\(|pagefault_disable\\(\\)|kmap_atomic|_nofault\\(|_inatomic\\(', ...where], { encoding: 'utf8', maxBuffer: 64 << 20 });
const files = grep.stdout.split('\n').filter(Boolean).sort();

const parser = await loadCParser();
/** Functions that call a fault-in helper, disable page faults or copy with faults not serviced. */
const candidates = [];
for (const file of files) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { continue; }
  if (text.length > 4 << 20) continue;
  const ir = lowerC(parser, text, {});
  for (const fn of ir.functions) {
    const uses = fn.blocks.some((b) => b.stmts.some((s) => {
      if (s.kind !== 'call') return false;
      const e = lookupApi(s.callee);
      return !!e && (!!e.faultIn || e.pagefault === 'disable' || !!e.uaccess?.nofault);
    }));
    if (uses) candidates.push({ file, path: relative(opts.tree, file), fn: fn.name });
  }
}
const picked = candidates.length <= opts.max ? candidates
  : Array.from({ length: opts.max }, (_, i) => candidates[Math.floor((i * candidates.length) / opts.max)]);
console.log(`sim-sweep: ${files.length} files, ${candidates.length} functions use fault-in or pagefault_disable; simulating ${picked.length} (kernel ${kernel ?? 'mainline'})`);

const rows = [];
const counts = {};
const t0 = Date.now();
let lastFile;
let text;
for (const c of picked) {
  if (c.file !== lastFile) { text = readFileSync(c.file, 'utf8'); lastFile = c.file; }
  const r = await simulateFunction(text, c.fn, { path: c.path, ...(kernel ? { kernel } : {}) });
  // The function's verdict: the first failing profile, else inconclusive if any, else ok.
  const verdicts = r.profiles.map((p) => p.verdict);
  const verdict = verdicts.find((v) => v !== 'ok' && v !== 'inconclusive') ?? (verdicts.includes('inconclusive') || !verdicts.length ? 'inconclusive' : 'ok');
  counts[verdict] = (counts[verdict] ?? 0) + 1;
  const row = { path: c.path, function: c.fn, verdict, profiles: r.profiles.map((p) => `${p.arch}:${p.verdict}`).join(' '), note: r.note, ...(r.bound ? { bound: r.bound } : {}), ...(r.preconditions ? { preconditions: r.preconditions } : {}) };
  rows.push(row);
  if (verdict !== 'ok') console.log(`${verdict.padEnd(12)} ${c.path} ${c.fn}() [${row.profiles}]${r.bound ? ` bound=${r.bound}` : ''}: ${String(r.note).slice(0, 220)}`);
}
const bounds = {};
for (const r of rows) if (r.verdict === 'inconclusive') bounds[r.bound ?? '(none)'] = (bounds[r.bound ?? '(none)'] ?? 0) + 1;
console.log(`\nverdicts over ${rows.length} functions: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`inconclusive by reason: ${Object.entries(bounds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(rows, null, 1)}\n`);
