#!/usr/bin/env node
// `npm run realcode:alarms`: check the Linux 6.1 tree with the built CLI and print what differs
// from the triaged baseline (test/realcode/linux-6.1/*.json): every untriaged alarm (path,
// function, rule, line, message) and every baseline entry that no longer fires, with the figures
// (files, lines, alarms, alarms per million lines, wall time). The same comparison as the
// whole-tree test (test/realcode/linux-6.1.test.ts); this is the tool to triage with.
//
//   npm run realcode:alarms -- [--rule ID[,ID]] [--dir DIR]... [--tree DIR] [--json] [--no-lines]
//
// --dir    limit the run to directories or files of the tree (relative to its root; repeatable
//          or comma-separated); baseline entries outside them are not reported as vanished.
// --rule   only these rules (entries of other rules are not reported as vanished).
// --tree   the tree (default: FAULTLINE_LINUX_TREE, else what scripts/ensure-linux-tree.sh finds).
// --json   print {figures, untriaged, vanished, notes, failures} as JSON.
// --no-lines  skip counting the lines of the C files (saves reading the tree once more).
// Exit status: 0 the alarms equal the baseline, 1 they differ, 2 the run failed (crash, internal
// error, budget stop) or a usage error.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'out', 'test', 'realcode', 'baseline.js');

function usage(msg) {
  if (msg) console.error(`realcode:alarms: ${msg}`);
  console.error('usage: npm run realcode:alarms -- [--rule ID[,ID]] [--dir DIR]... [--tree DIR] [--json] [--no-lines]');
  process.exit(2);
}

const opts = { rules: [], dirs: [], tree: undefined, json: false, lines: true };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const eq = a.indexOf('=');
  const name = eq > 0 ? a.slice(0, eq) : a;
  const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i] ?? usage(`${name} needs a value`));
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  switch (name) {
    case '--rule': case '--rules': opts.rules.push(...list(val())); break;
    case '--dir': case '--dirs': opts.dirs.push(...list(val())); break;
    case '--tree': opts.tree = resolve(process.cwd(), val()); break;
    case '--json': opts.json = true; break;
    case '--no-lines': opts.lines = false; break;
    case '--help': case '-h': usage(); break;
    default: usage(`unknown option '${a}'`);
  }
}

if (!existsSync(lib) || !existsSync(join(root, 'dist', 'cli.js'))) usage('not built: run `npm run build` first');
const require = createRequire(import.meta.url);
const { baselineDir, compare, countLines, findTree, formatReport, loadBaseline, runCheck, runFailures } = require(lib);

let tree = opts.tree;
if (!tree) {
  const found = findTree(root);
  if (!found.path) usage(`no Linux 6.1 tree: ${found.message}`);
  tree = found.path;
}
for (const d of opts.dirs) {
  if (!existsSync(join(tree, d))) usage(`--dir ${d}: not in ${tree}`);
}

const baseline = loadBaseline(baselineDir(root));
if (baseline.errors.length) {
  console.error(`realcode:alarms: the baseline is malformed:\n  ${baseline.errors.join('\n  ')}`);
  process.exit(2);
}
const scope = { rules: opts.rules, dirs: opts.dirs };
if (!opts.json) console.error(`realcode:alarms: checking ${opts.dirs.length ? opts.dirs.join(' ') : 'the whole tree'} of ${tree} ...`);
const run = runCheck(root, tree, scope);
const size = opts.lines ? countLines(tree, opts.dirs.length ? opts.dirs : ['.']) : undefined;
const cmp = compare(run.alarms, baseline.entries, scope);
const failures = runFailures(run);

if (opts.json) {
  console.log(JSON.stringify({
    tree, scope, figures: { ...size, alarms: run.alarms.length, keys: cmp.keys, notes: run.notes.length, wallMs: run.wallMs,
      perMillionLines: size?.lines ? (run.alarms.length / size.lines) * 1e6 : undefined },
    untriaged: cmp.untriaged, vanished: cmp.vanished, notes: run.notes, failures,
  }, null, 2));
} else {
  process.stdout.write(formatReport(run, cmp, size, scope));
  if (failures.length) console.log(`\nFAILURES (${failures.length}): the run is not trustworthy until these are fixed:\n  ${failures.join('\n  ')}`);
}
process.exit(failures.length ? 2 : cmp.untriaged.length || cmp.vanished.length ? 1 : 0);
