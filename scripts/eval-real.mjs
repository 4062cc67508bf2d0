#!/usr/bin/env node
// `npm run eval:real`: recall and false alarms on real kernel functions before and after known
// fixes, plus clean functions (a benchmark, not a CI test: CI has no copy of the source trees).
//
//   npm run eval:real -- [--list FILE] [--cases DIR] [--rule ID[,ID]] [--root DIR] [--json] [--verbose]
//
// --list   the case list (JSON array of {id, class, expect, expect_any, function, kernel_version,
//          repo, path, commit}); default shared/realcode/dev-cases.json in the folder beside the
//          clone, else <cases>/cases.json.
// --cases  the folder the cases were materialized into: `<id>.c` holds the named functions alone,
//          `whole/<id>.c` the whole file; default .realcode (git-ignored).
// --root   the faultline clone whose built CLI is measured (default: this one), so one copy of the
//          script can measure another worktree.
// Each file is checked by the real CLI (bin/faultline check --format json --kernel <version>).
// A bug case is found when one of its expect_any rules fires in one of the named functions; a
// fixed or clean case is false when any rule fires in the named functions. For whole files the
// alarms in the rest of the file are counted too ("elsewhere"): a real file must stay quiet.
// Exit status: 0 (it is a measurement), 2 on usage errors or when the CLI crashes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
let root = here;

function usage(msg) {
  if (msg) console.error(`eval:real: ${msg}`);
  console.error('usage: npm run eval:real -- [--list FILE] [--cases DIR] [--rule ID[,ID]] [--root DIR] [--json] [--verbose]');
  process.exit(2);
}

const opts = { list: undefined, cases: '.realcode', rules: undefined, json: false, verbose: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const eq = a.indexOf('=');
  const name = eq > 0 ? a.slice(0, eq) : a;
  const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i] ?? usage(`${name} needs a value`));
  switch (name) {
    case '--list': opts.list = val(); break;
    case '--root': root = resolve(process.cwd(), val()); break;
    case '--cases': opts.cases = val(); break;
    case '--rule': case '--rules': opts.rules = val().split(',').map((s) => s.trim()).filter(Boolean); break;
    case '--json': opts.json = true; break;
    case '--verbose': case '-v': opts.verbose = true; break;
    case '--help': case '-h': usage(); break;
    default: usage(`unknown option '${a}'`);
  }
}

const casesDir = resolve(process.cwd(), opts.cases);
const listCandidates = opts.list
  ? [resolve(process.cwd(), opts.list)]
  : [resolve(here, '..', 'shared', 'realcode', 'dev-cases.json'), join(casesDir, 'cases.json')];
const listPath = listCandidates.find((p) => existsSync(p));
if (!listPath) usage(`no case list found (tried ${listCandidates.join(', ')}); give --list FILE`);
if (!existsSync(casesDir)) {
  usage(`no cases folder ${casesDir}; materialize the cases first (docs/DEVELOPING.md, "Real kernel code"), or give --cases DIR`);
}
const cli = join(root, 'bin', 'faultline');
if (!existsSync(join(root, 'dist', 'cli.js'))) usage('dist/cli.js is missing; run `npm run build` first');

/** @type {Array<{id:string,class:string,expect:string,expect_any:string[],function:string,kernel_version:string,repo:string,path:string,commit:string}>} */
const cases = JSON.parse(readFileSync(listPath, 'utf8'));
// Notes, not alarms: a budget note says an analysis stopped at its bound (counted separately).
const NOT_RULES = new Set(['annotation', 'degraded', 'budget']);

/** Run the CLI once per kernel version over the files of that version; diagnostics by file. */
function checkAll(kind) {
  const byFile = new Map();
  const failures = [];
  const byVersion = new Map();
  for (const c of cases) {
    const file = kind === 'cut' ? join(casesDir, `${c.id}.c`) : join(casesDir, 'whole', `${c.id}.c`);
    if (!existsSync(file)) continue;
    if (!byVersion.has(c.kernel_version)) byVersion.set(c.kernel_version, []);
    byVersion.get(c.kernel_version).push(file);
  }
  let ms = 0;
  for (const [version, files] of byVersion) {
    const args = [cli, 'check', '--format', 'json', '--kernel', version];
    if (opts.rules) args.push('--rule', opts.rules.join(','));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...args, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 });
    ms += Date.now() - t0;
    let out;
    try {
      out = JSON.parse(r.stdout);
    } catch {
      console.error(`eval:real: the CLI did not print JSON for kernel ${version} (exit ${r.status}):\n${r.stderr}`);
      process.exit(2);
    }
    for (const f of files) byFile.set(f, []);
    for (const d of out.diagnostics) byFile.get(resolve(d.file))?.push(d);
    for (const p of out.problems ?? []) failures.push(p);
  }
  return { byFile, failures, ms };
}

const cut = checkAll('cut');
const whole = checkAll('whole');

function verdictOf(c, diags, kind) {
  if (!diags) return { verdict: 'absent', inFn: [], elsewhere: [] };
  const names = new Set(c.function.split('+').map((s) => s.trim()));
  const alarms = diags.filter((d) => !NOT_RULES.has(d.rule));
  const inFn = alarms.filter((d) => names.has(d.function));
  const elsewhere = kind === 'whole' ? alarms.filter((d) => !names.has(d.function)) : [];
  const notes = diags.filter((d) => d.rule === 'degraded');
  const budget = diags.filter((d) => d.rule === 'budget');
  let verdict;
  if (c.expect === 'bug') verdict = inFn.some((d) => c.expect_any.includes(d.rule)) ? 'found' : 'missed';
  else verdict = inFn.length ? 'false' : 'silent';
  return { verdict, inFn, elsewhere, notes, budget };
}

const rows = cases.map((c) => ({
  c,
  cut: verdictOf(c, cut.byFile.get(join(casesDir, `${c.id}.c`)), 'cut'),
  whole: verdictOf(c, whole.byFile.get(join(casesDir, 'whole', `${c.id}.c`)), 'whole'),
}));

const ruleList = (ds) => [...new Set(ds.map((d) => d.rule))].sort().join(',');

if (opts.json) {
  const slim = (v) => ({ verdict: v.verdict, rules: ruleList(v.inFn), elsewhere: v.elsewhere?.length ?? 0,
    alarms: v.inFn.map((d) => ({ function: d.function, rule: d.rule, line: d.line, message: d.message })) });
  console.log(JSON.stringify(rows.map((r) => ({ id: r.c.id, class: r.c.class, expect: r.c.expect, expect_any: r.c.expect_any, cut: slim(r.cut), whole: slim(r.whole) })), null, 2));
  process.exit(0);
}

const pad = (s, n) => String(s).padEnd(n);
const idW = Math.max(...cases.map((c) => c.id.length)) + 1;
console.log(`eval:real: ${cases.length} cases from ${listPath}\n           files from ${casesDir}\n           CLI ${cli}${opts.rules ? `; rules ${opts.rules.join(',')}` : ''}\n`);
console.log(`${pad('case', idW)}${pad('cls', 4)}${pad('expect', 7)}${pad('want', 26)}${pad('functions alone', 36)}whole file (named fns; +N elsewhere)`);
const cell = (v, withElse) => {
  if (v.verdict === 'absent') return 'not materialized';
  const rules = ruleList(v.inFn);
  let s = `${v.verdict}${rules ? ` [${rules}]` : ''}`;
  if (withElse && v.elsewhere.length) s += ` +${v.elsewhere.length} elsewhere [${ruleList(v.elsewhere)}]`;
  if (v.notes?.length) s += ` (${v.notes.length} degraded)`;
  return s;
};
for (const r of rows) {
  console.log(`${pad(r.c.id, idW)}${pad(r.c.class, 4)}${pad(r.c.expect, 7)}${pad(r.c.expect_any.join(',') || '-', 26)}${pad(cell(r.cut, false), 35) + ' '}${cell(r.whole, true)}`);
  if (opts.verbose) {
    for (const [kind, v] of [['alone', r.cut], ['whole', r.whole]]) {
      for (const d of [...v.inFn, ...(v.elsewhere ?? [])]) console.log(`    ${kind}: ${d.function}:${d.line} ${d.rule}: ${d.message}`);
    }
  }
}

// Per rule: bug cases expecting it (found/missed), fixed/clean cases it fires on (false).
const rules = new Set();
for (const r of rows) {
  for (const x of r.c.expect_any) rules.add(x);
  for (const d of [...r.cut.inFn, ...r.whole.inFn]) rules.add(d.rule);
}
console.log(`\nper rule (functions alone | whole file)`);
console.log(`${pad('rule', 30)}${pad('found', 12)}${pad('missed', 12)}${pad('false', 12)}`);
const tally = (sel) => {
  const t = { found: [0, 0], missed: [0, 0], false: [0, 0] };
  for (const r of rows) {
    [r.cut, r.whole].forEach((v, k) => {
      const s = sel(r, v);
      if (s) t[s][k]++;
    });
  }
  return t;
};
const fmt = (p) => `${p[0]} | ${p[1]}`;
for (const rule of [...rules].sort()) {
  const t = tally((r, v) => {
    if (r.c.expect === 'bug' && r.c.expect_any.includes(rule)) {
      if (v.verdict === 'absent') return undefined;
      return v.inFn.some((d) => d.rule === rule) ? 'found' : 'missed';
    }
    if (r.c.expect !== 'bug' && v.inFn.some((d) => d.rule === rule)) return 'false';
    return undefined;
  });
  console.log(`${pad(rule, 30)}${pad(fmt(t.found), 12)}${pad(fmt(t.missed), 12)}${pad(fmt(t.false), 12)}`);
}

console.log(`\nper class (functions alone | whole file)`);
console.log(`${pad('class', 30)}${pad('found', 12)}${pad('missed', 12)}${pad('false', 12)}`);
for (const cls of [...new Set(cases.map((c) => c.class))].sort()) {
  const t = tally((r, v) => (r.c.class !== cls || v.verdict === 'absent' || v.verdict === 'silent' ? undefined : v.verdict));
  console.log(`${pad(cls, 30)}${pad(fmt(t.found), 12)}${pad(fmt(t.missed), 12)}${pad(fmt(t.false), 12)}`);
}

const bugs = rows.filter((r) => r.c.expect === 'bug');
const quiet = rows.filter((r) => r.c.expect !== 'bug');
const count = (rs, k, v) => rs.filter((r) => r[k].verdict === v).length;
const absent = rows.filter((r) => r.cut.verdict === 'absent' || r.whole.verdict === 'absent').map((r) => r.c.id);
console.log(`\ntotal: bugs found ${count(bugs, 'cut', 'found')}/${bugs.length} alone, ${count(bugs, 'whole', 'found')}/${bugs.length} whole; ` +
  `fixed/clean with an alarm ${count(quiet, 'cut', 'false')}/${quiet.length} alone, ${count(quiet, 'whole', 'false')}/${quiet.length} whole; ` +
  `alarms elsewhere in whole files ${rows.reduce((n, r) => n + (r.whole.elsewhere?.length ?? 0), 0)}; ` +
  `budget notes ${rows.reduce((n, r) => n + (r.whole.budget?.length ?? 0), 0)} in whole files`);
console.log(`time: ${cut.ms} ms alone, ${whole.ms} ms whole (CLI wall time)`);
if (absent.length) console.log(`not materialized (${absent.length}): ${absent.join(', ')}`);
const problems = [...cut.failures, ...whole.failures];
if (problems.length) {
  console.log(`\nproblems reported by the CLI (${problems.length}):`);
  for (const p of problems) console.log(`  ${p.file}${p.line ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`);
}
