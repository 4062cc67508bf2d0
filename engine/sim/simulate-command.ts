// `faultline simulate ...`: run a built-in scenario (or, with issue 4, a C function) under one
// or every architecture profile. The CLI engineer wires the command to this function.
//   simulate --list
//   simulate --scenario NAME [--arch P|all] [--kernel V] [--json] [--max-states N]
// Exit: 0 when the verdict is "ok" (on every profile run), 1 for a failing verdict (including
// inconclusive), 2 for usage errors.

import { PROFILE_NAMES, getProfile } from '../kernel/profiles';
import { MAINLINE, parseKernelVersion } from '../kernel/versions';
import { treeVersionOf } from '../input/tree-version';
import { renderTraceTable } from '../explain/trace-table';
import { simResultToJson, stepToJson } from '../explain/trace-json';
import { simulateFunction, type SimulationResult } from './simulate-function';
import { readInputFile } from '../input/files';
import { SCENARIOS, findScenario } from './scenarios/index';
import { expectedVerdict, runScenario, type ProfileName, type SimResult } from './scenario';

export interface SimulateIo {
  out(s: string): void;
  err(s: string): void;
}

const HINT = "Try 'faultline simulate --help' for more information.";
const USAGE = 'usage: faultline simulate --scenario NAME [--arch x86_64|arm64|arm64-mte|all] [--kernel vX.Y] [--json] [--max-states N]\n'
  + '       faultline simulate FILE --function NAME [--arch P|all] [--kernel vX.Y] [--json] [--max-states N]\n'
  + '       faultline simulate --list';

export function formatResult(r: SimResult): string {
  const head = [
    `scenario ${r.scenario} on ${r.arch}, kernel ${r.kernel}: ${r.verdict}${r.expected && r.expected !== r.verdict ? ` (expected ${r.expected})` : ''}`,
    ...(r.choice ? [`adversary choice: ${r.choice}`] : []),
  ];
  const body = r.steps.length ? renderTraceTable(r.steps, { threads: r.threads, verdict: r.verdict, note: r.note, decisive: r.decisive }) : `  ${r.note}`;
  const ratio = r.interleavings ? (r.naive / r.interleavings) : 0;
  const stats = `states explored: ${r.statesExplored}; interleavings explored: ${r.interleavings}${r.bound ? `; bound: ${r.bound}` : ''}\n`
    + `naive enumeration: ${r.naive}${ratio >= 1 ? ` (${ratio >= 100 ? Math.round(ratio) : ratio.toFixed(1)}x reduction)` : ''}`;
  return `${head.join('\n')}\n\n${body}\n\n${stats}\n`;
}

export async function runSimulateCommand(argv: string[], io: SimulateIo): Promise<number> {
  let scenario: string | undefined;
  let arch = 'all';
  let kernel: string | undefined;
  let json = false;
  let list = false;
  let maxStates: number | undefined;
  let fnName: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string | undefined => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      return argv[++i];
    };
    const key = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (key) {
      case '--scenario': scenario = val(); break;
      case '--arch': arch = val() ?? ''; break;
      case '--kernel': kernel = val(); break;
      case '--json': json = true; break;
      case '--list': list = true; break;
      case '--function': fnName = val(); break;
      case '--max-states': {
        const v = val();
        const n = Number(v);
        if (!v || !Number.isInteger(n) || n <= 0) {
          io.err(`faultline simulate: --max-states needs a positive integer, got "${v ?? ''}"\n${HINT}\n`);
          return 2;
        }
        maxStates = n;
        break;
      }
      case '-h': case '--help': io.out(`${USAGE}\n`); return 0;
      default:
        if (a.startsWith('-')) {
          io.err(`faultline simulate: unknown option ${a}\n${HINT}\n`);
          return 2;
        }
        files.push(a);
    }
  }
  if (list) {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(28)} ${s.side.padEnd(6)} ${s.title}\n`);
    return 0;
  }
  if (files.length || fnName) return simulateFileFunction(files, fnName, { arch, kernel, json, maxStates, scenario }, io);
  if (!scenario) {
    io.err(`faultline simulate: --scenario NAME or --list is required\n${HINT}\n`);
    return 2;
  }
  const sc = findScenario(scenario);
  if (!sc) {
    const near = SCENARIOS.filter((s) => s.name.includes(scenario!) || scenario!.includes(s.name.split('-')[0])).map((s) => s.name);
    io.err(`faultline simulate: unknown scenario "${scenario}"${near.length ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : ''}; see --list\n`);
    return 2;
  }
  if (arch !== 'all' && !getProfile(arch)) {
    io.err(`faultline simulate: unknown architecture profile "${arch}" (x86_64, arm64, arm64-mte or all)\n`);
    return 2;
  }
  if (kernel !== undefined && !parseKernelVersion(kernel)) {
    io.err(`faultline simulate: cannot parse kernel version "${kernel}" (expected e.g. v5.16 or v5.17-rc8)\n`);
    return 2;
  }
  const archs: ProfileName[] = arch === 'all' ? PROFILE_NAMES : [arch as ProfileName];
  const results = archs.map((a) => runScenario(sc, { arch: a, ...(kernel ? { kernel } : {}), ...(maxStates ? { maxStates } : {}) }));
  const failing = results.find((r) => r.verdict !== 'ok');
  const shown = failing ?? results[0];
  if (json) {
    const obj = simResultToJson(shown);
    if (archs.length > 1) obj.profiles = results.map((r) => ({ arch: r.arch, verdict: r.verdict, ...(expectedVerdict(sc, r.arch) ? { expected: expectedVerdict(sc, r.arch) } : {}) }));
    io.out(`${JSON.stringify(obj, null, 2)}\n`);
  } else {
    if (archs.length > 1) {
      for (const r of results) io.out(`${r.arch.padEnd(10)} ${r.verdict}${r.expected ? ` (expected ${r.expected})` : ''}\n`);
      io.out('\n');
    }
    io.out(formatResult(shown));
    if (!kernel && !sc.kernel) io.out(`(kernel: current mainline, ${MAINLINE})\n`);
  }
  return failing ? 1 : 0;
}

/** The head line within 100 columns: a long path is shown by its last part (the user named it). */
function fitHeader(line: string, file: string): string {
  if (line.length <= 100) return line;
  const short = file.split('/').pop() ?? file;
  return line.replace(file, short);
}

/** Human rendering of a C function's simulation (issue 4): per-profile verdicts, then the trace. */
export function formatFunctionResult(r: SimulationResult, file: string): string {
  const head = [
    fitHeader(`function ${r.function}() in ${file} on ${r.arch}, kernel ${r.kernel}: ${r.verdict}`, file),
    ...(r.rule
      // A seed rule's scenario (engine/sim/simulate-seed.ts): which call it simulates, every run's verdict, who the threads are.
      ? [`scenario of ${r.rule}: ${r.choice?.replace(`${r.rule}: `, '') ?? ''}`,
        ...(r.profiles.length > 1 ? r.profiles.map((p) => `  ${p.choice}: ${p.verdict}`) : []),
        ...(r.threads ?? []).map((t, i) => `thread ${i}: ${t}`)]
      : [
        ...(r.choice && r.verdict !== 'ok' ? [`adversary choice: ${r.choice}`] : []),
        ...(r.verdict === 'ok' && r.lengths ? [`covered: ${r.runs ?? 0} runs (buffer lengths ${r.lengths.join(', ')} bytes x user-buffer layouts), every adversary choice`] : []),
        r.loops.length ? `fault-in retry loop(s): ${r.loops.map((l) => l.label).join('; ')}` : 'no fault-in retry loop recognised; the function runs as written',
        `user buffer: ${r.roles.user.join(', ') || '(none)'}; length: ${r.roles.len.join(', ') || '(none)'}`,
      ]),
  ];
  const lanes = r.threads?.map((t) => t.split(':')[0]) ?? [r.function];
  const body = r.steps.length ? renderTraceTable(r.steps, { threads: lanes, verdict: r.verdict, note: r.note, decisive: r.decisive }) : `  ${r.note}`;
  const stats = `states explored: ${r.statesExplored}${r.bound ? `; bound: ${r.bound}` : ''}`;
  return `${head.join('\n')}\n\n${body}\n\n${stats}\n`;
}

async function simulateFileFunction(files: string[], fnName: string | undefined,
  o: { arch: string; kernel?: string; json: boolean; maxStates?: number; scenario?: string }, io: SimulateIo): Promise<number> {
  if (o.scenario) {
    io.err(`faultline simulate: give either --scenario NAME or FILE --function NAME, not both\n${HINT}\n`);
    return 2;
  }
  if (files.length !== 1 || !fnName) {
    io.err(`faultline simulate: ${files.length > 1 ? 'one FILE at a time' : !fnName ? `${files[0]}: --function NAME is required` : '--function needs a FILE'}\n${HINT}\n`);
    return 2;
  }
  const file = files[0];
  const read = readInputFile(file);
  if (!read.ok) {
    io.err(`faultline simulate: ${file}: ${read.message}\n`);
    return 2;
  }
  // --kernel, else the version of the tree the file is in (its top-level Makefile), else mainline.
  const tree = o.kernel ? undefined : treeVersionOf(file);
  const kernel = o.kernel ?? tree?.version;
  const r = await simulateFunction(read.text, fnName, { path: file, arch: o.arch, ...(kernel ? { kernel } : {}), ...(o.maxStates ? { maxStates: o.maxStates } : {}) });
  if (r.error) {
    io.err(`faultline simulate: ${r.error.startsWith(file) ? '' : `${file}: `}${r.error}\n`);
    return 2;
  }
  if (o.json) {
    const obj: Record<string, unknown> = {
      verdict: r.verdict, arch: r.arch, kernel: r.kernel, function: r.function, file, note: r.note,
      ...(r.choice ? { choice: r.choice } : {}),
      steps: r.steps.map(stepToJson), decisiveStep: r.decisive, statesExplored: r.statesExplored,
      ...(r.bound ? { bound: r.bound } : {}),
      profiles: r.profiles, loops: r.loops,
    };
    io.out(`${JSON.stringify(obj, null, 2)}\n`);
  } else {
    if (r.profiles.length > 1) {
      // What each verdict covered, in the words the editor's hover shows (engine/sim/coverage.ts).
      for (const p of r.profiles) io.out(`${p.arch.padEnd(10)} ${p.verdict}${p.covered ? ` — ${p.covered}` : ''}\n`);
      io.out('\n');
    }
    io.out(formatFunctionResult(r, file));
    if (tree) io.out(`(kernel ${tree.version}, from ${tree.makefile}; --kernel overrides)\n`);
    else if (!o.kernel) io.out(`(kernel: current mainline, ${MAINLINE})\n`);
  }
  return r.verdict === 'ok' ? 0 : 1;
}
