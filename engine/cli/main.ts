// The `faultline` command (ARCHITECTURE.md, "CLI"): check, simulate, explain. bin/faultline
// calls main(); tests call it in-process with their own io.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Engine } from '../engine';
import type { RuleMeta } from '../rules/types';
import { allRules, ruleById } from '../rules/registry';
import { explainApi } from '../explain/api-hover';
import { explainRule } from '../explain/rule-explain';
import { allApis } from '../kernel/api-table';
import { getProfile, PROFILE_NAMES } from '../kernel/profiles';
import { parseKernelVersion } from '../kernel/versions';
import { annotationMeta, degradedMeta } from '../rules/run';
import { budgetMeta } from '../budget';
import { runSimulateCommand } from '../sim/simulate-command';
import { maxInputBytes } from '../input/files';
import {
  exitCodeOf, formatCheckpatch, formatJson, formatProblems, formatSarif, formatSummary, formatText,
  type Report,
} from './format';
import { markdownToText } from './markdown';
import { checkFiles, extractSpeedArgs, SPEED_USAGE } from './run-files';
import { formatSkipped, walkSteps, type WalkResult } from './walk';

export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  stdin: NodeJS.ReadableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal (progress is shown on it); default false. */
  stderrTTY?: boolean;
}

export interface CliDeps {
  /** An engine to use instead of loading one (tests). */
  engine?: Engine;
  /** Rule metadata to use instead of the registry's (tests). */
  rules?: RuleMeta[];
}

const FORMATS = ['text', 'json', 'sarif', 'checkpatch'] as const;
type Format = (typeof FORMATS)[number];

/**
 * Per-file wall-clock guard, a last resort against a hang: the parse, the analyses and the
 * simulations are bounded in steps and states (so results do not depend on machine speed), and
 * this guard is set far above what they take on a loaded machine (the slowest 6.1 file takes
 * about 20 s there). When it fires, the file gets an input error (exit 2), never a hang.
 */
const DEFAULT_FILE_BUDGET_MS = 300_000;

export const USAGE = `usage: faultline <command> [options]

commands:
  check [--format text|json|sarif|checkpatch] [--rule ID[,ID]] [--arch NAME|all]
        [--kernel V] [--tree DIR] [--showfile] [--summary] [--exit-zero] PATH...
      Check C files (.c .h), patches (.patch .diff .mbox .mbx .eml) and directories
      (walked recursively); - reads a patch or C text from stdin. A patch series
      (an mbox, b4 am output) is judged in its final state; each finding names
      the patch that introduced it.
      Exit status: 0 nothing found, 1 at least one warning or error,
      2 usage or input error, or no file checked (2 wins over 1).
      --tree DIR: the kernel tree patches apply to; patched files are then analyzed
      whole instead of as fragments rebuilt from the hunks.
      --showfile: checkpatch format names the patched file and line (checkpatch --showfile).
      --summary: a count per rule and the files checked, after the findings.
      --exit-zero: exit 0 even when there are findings (2 still means an input error).
${SPEED_USAGE}  simulate --scenario NAME [--arch NAME|all] [--kernel V] [--json] [--max-states N]
  simulate FILE --function NAME [--arch NAME|all] [--kernel V] [--json] [--max-states N]
  simulate --list
      Run a scenario, or a C function of FILE (its fault-in retry loop; a fault
      under a lock the fault path takes; PTEs write-protected under
      mmap_read_lock), in the kernel-model simulator and print the verdict and
      the trace.
  explain NAME
      What the API table knows about a kernel function.
  explain RULE-ID
      What a rule reports: its summary, default severity, what, why and the
      fix, and where its documentation page is.

options:
  --help, -h      this text
  --version, -V   print the version
`;

let pipeGuard = false;

function defaultIO(): CliIO {
  if (!pipeGuard) {
    pipeGuard = true;
    // `faultline check ... | head`: the reader went away; stop quietly like other Unix tools.
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw e;
      });
    }
  }
  return {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    stderrTTY: process.stderr.isTTY === true,
  };
}

/** The installed package root: the nearest directory upwards holding faultline's package.json. */
export function packageRoot(from: string = typeof __dirname === 'string' ? __dirname : process.cwd()): string | undefined {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'faultline') return dir;
      } catch { /* not ours */ }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function toolVersion(): string {
  const root = packageRoot();
  if (!root) return '0.0.0';
  try {
    return String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}

/** Base for rule help URIs: FAULTLINE_DOCS_BASE, else the installed package root as a file:// URI. */
export function docsBase(env: NodeJS.ProcessEnv): string {
  if (env.FAULTLINE_DOCS_BASE) return env.FAULTLINE_DOCS_BASE;
  const root = packageRoot() ?? process.cwd();
  return pathToFileURL(root.endsWith('/') ? root : root + '/').href;
}

class UsageError extends Error {}

/** A usage error: one line saying what is wrong, one line saying where the help is. */
function usageError(io: CliIO, command: string | undefined, message: string): void {
  const prefix = command ? `faultline ${command}` : 'faultline';
  io.stderr(`${prefix}: ${message}\nTry '${prefix} --help' for more information.\n`);
}

interface CheckArgs {
  format: Format;
  rules?: string[];
  arch?: string;
  kernel?: string;
  summary: boolean;
  /** Findings do not make the exit status 1 (input errors still give 2). */
  exitZero: boolean;
  /** checkpatch format: name the patched file and line, not the patch (checkpatch --showfile). */
  showfile: boolean;
  /** Kernel tree the patches apply to (`--tree DIR`). */
  tree?: string;
  paths: string[];
}

function parseCheckArgs(argv: string[]): CheckArgs {
  const a: CheckArgs = { format: 'text', summary: false, exitZero: false, showfile: false, paths: [] };
  const value = (i: number, name: string, inline?: string): string => {
    if (inline !== undefined) return inline;
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && v !== '-')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  let onlyPaths = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPaths || arg === '-' || !arg.startsWith('-')) { a.paths.push(arg); continue; }
    if (arg === '--') { onlyPaths = true; continue; }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const consumed = inline === undefined ? 1 : 0;
    switch (name) {
      case '--format': case '-f': {
        const v = value(i, name, inline);
        if (!(FORMATS as readonly string[]).includes(v)) throw new UsageError(`unknown format '${v}' (use one of: ${FORMATS.join(', ')})`);
        a.format = v as Format;
        i += consumed;
        break;
      }
      case '--rule': case '--rules': {
        const v = value(i, name, inline);
        a.rules = [...(a.rules ?? []), ...v.split(',').map((s) => s.trim()).filter(Boolean)];
        i += consumed;
        break;
      }
      case '--arch': {
        const v = value(i, name, inline);
        if (v !== 'all' && !getProfile(v)) throw new UsageError(`unknown architecture profile '${v}' (use all, ${PROFILE_NAMES.join(', ')})`);
        a.arch = v;
        i += consumed;
        break;
      }
      case '--kernel': {
        const v = value(i, name, inline);
        const parsed = parseKernelVersion(v);
        if (!parsed) throw new UsageError(`--kernel wants a version such as v6.1, 5.16 or v6.8-rc3 (got '${v}')`);
        a.kernel = parsed.text;
        i += consumed;
        break;
      }
      case '--summary': a.summary = true; break;
      case '--exit-zero': a.exitZero = true; break;
      case '--showfile': a.showfile = true; break;
      case '--tree': a.tree = value(i, name, inline); i += consumed; break;
      default: throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (a.paths.length === 0) throw new UsageError('no PATH given (name files or directories, or - for stdin)');
  return a;
}

function ruleMetas(deps: CliDeps): RuleMeta[] {
  return deps.rules ?? allRules.map((r) => r.meta);
}

export async function runCheck(argv: string[], io: CliIO, deps: CliDeps = {}): Promise<number> {
  let args: CheckArgs;
  const speedArgs = extractSpeedArgs(argv);
  try {
    if ('error' in speedArgs) throw new UsageError(speedArgs.error);
    args = parseCheckArgs(speedArgs.argv);
  } catch (e) {
    if (e instanceof UsageError) { usageError(io, 'check', e.message); return 2; }
    throw e;
  }
  const metas = ruleMetas(deps);
  if (args.rules) {
    const known = new Set(metas.map((m) => m.id));
    const unknown = args.rules.filter((r) => !known.has(r));
    if (unknown.length) {
      usageError(io, 'check', `unknown rule id${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; valid ids: ${[...known].join(', ')}`);
      return 2;
    }
  }
  // Annotation problems, degraded-check and budget notes come from every run, whatever --rule says.
  const selected = [...(args.rules ? metas.filter((m) => args.rules!.includes(m.id)) : metas), ...(deps.rules ? [] : [annotationMeta, degradedMeta, budgetMeta])];
  // The walk runs as checkFiles asks for it: the workers start on the first files found.
  const walk: WalkResult = { files: [], errors: [], skipped: [] };
  const walkStepsLeft = walkSteps(args.paths, { cwd: io.cwd }, walk);
  const report: Report = { files: [], failures: [], rules: selected };
  const limit = maxInputBytes(io.env);
  const budget = Number(io.env.FAULTLINE_FILE_BUDGET_MS) > 0 ? Number(io.env.FAULTLINE_FILE_BUDGET_MS) : DEFAULT_FILE_BUDGET_MS;
  let treeRoot: string | undefined;
  if (args.tree !== undefined) {
    treeRoot = resolve(io.cwd, args.tree);
    try {
      if (!statSync(treeRoot).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      io.stderr(`faultline check: --tree ${args.tree}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}\n`);
      return 2;
    }
  }
  // Reading, the prefilter, the cache and the worker threads: engine/cli/run-files.ts.
  const run = await checkFiles({ out: walk, steps: walkStepsLeft }, {
    opts: { rules: args.rules, arch: args.arch, kernel: args.kernel, tree: treeRoot, cwd: io.cwd, limit, budgetMs: budget, prefilter: true, hash: false },
    speed: 'error' in speedArgs ? { cache: false, prefilter: true } : speedArgs.speed,
    stdin: io.stdin, env: io.env, stderr: io.stderr, stderrTTY: io.stderrTTY === true,
    engine: deps.engine, toolVersion: toolVersion(),
  });
  report.files.push(...run.files);
  report.failures.push(...walk.errors.map((e) => ({ path: e.path, message: e.message })), ...run.failures);
  switch (args.format) {
    case 'text': io.stdout(formatText(report)); break;
    case 'json': io.stdout(formatJson(report)); break;
    case 'checkpatch': io.stdout(formatCheckpatch(report, { showfile: args.showfile })); break;
    case 'sarif': io.stdout(formatSarif(report, { cwd: io.cwd, docsBase: docsBase(io.env), toolVersion: toolVersion(), tree: args.tree })); break;
  }
  io.stderr(formatProblems(report));
  io.stderr(formatSkipped([...walk.skipped, ...run.skipped]));
  let code = exitCodeOf(report);
  if (args.summary) {
    // Machine formats keep stdout parseable: the summary goes to stderr there.
    (args.format === 'text' ? io.stdout : io.stderr)(formatSummary(report));
  }
  if (report.files.length === 0 && report.failures.length === 0) {
    // A run that checked nothing must not look like a clean one.
    io.stderr(`faultline check: no file checked (${args.paths.join(' ')}: no .c, .h, .patch, .diff, .mbox, .mbx or .eml file)\n`);
    code = 2;
  }
  if (args.exitZero && code === 1) code = 0;
  return code;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Table names close to a mistyped one (typos, or a prefix of a family). */
function nearNames(name: string, known: string[]): string[] {
  const scored = known
    .map((k) => ({ k, d: k.startsWith(name) && name.length >= 4 ? 0.5 : editDistance(name, k) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 5)))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k));
  return scored.slice(0, 4).map((x) => x.k);
}

/** The installed page of a rule, when the package ships it (explainRule falls back to the repository path in the rule's meta). */
function ruleDocsPath(docs: string): string | undefined {
  const root = packageRoot();
  const p = root ? join(root, docs) : undefined;
  return p && existsSync(p) ? p : undefined;
}

function runExplain(argv: string[], io: CliIO): number {
  const names = argv.filter((a) => !a.startsWith('-'));
  if (names.length !== 1 || argv.length !== 1) {
    io.stderr(`faultline explain: name exactly one kernel function or rule id, e.g. faultline explain pin_user_pages, faultline explain gup-leak\n`);
    return 2;
  }
  const name = names[0].replace(/\(\)$/, '');
  const rule = ruleById(name);
  const md = rule ? explainRule(name, ruleDocsPath(rule.meta.docs)) : explainApi(name);
  if (!md) {
    const near = nearNames(name, [...allApis().map((e) => e.name), ...allRules.map((r) => r.meta.id)]);
    const hint = near.length ? `; did you mean ${near.join(', ')}?` : ` (it knows the GUP acquire/release family, fault-in helpers and uaccess copies, see engine/kernel/api/; and the rules ${allRules.map((r) => r.meta.id).join(', ')})`;
    io.stderr(`faultline explain: '${name}' is not in the API table and is not a rule id${hint}\n`);
    return 2;
  }
  io.stdout(markdownToText(md) + '\n');
  return 0;
}

/** Entry point: returns the exit status (bin/faultline sets process.exitCode). */
export async function main(argv: string[], ioOverride: Partial<CliIO> = {}, deps: CliDeps = {}): Promise<number> {
  const io: CliIO = { ...defaultIO(), ...ioOverride };
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      usageError(io, undefined, 'no command given (check, simulate or explain)');
      return 2;
    case '--help': case '-h': case 'help':
      io.stdout(USAGE);
      return 0;
    case '--version': case '-V': case 'version':
      io.stdout(`faultline ${toolVersion()}\n`);
      return 0;
    case 'check':
      if (rest.includes('--help') || rest.includes('-h')) { io.stdout(USAGE); return 0; }
      return runCheck(rest, io, deps);
    case 'explain':
      return runExplain(rest, io);
    case 'simulate':
      return runSimulateCommand(rest, { out: (t) => io.stdout(t), err: io.stderr });
    default:
      usageError(io, undefined, `unknown command '${cmd}' (use check, simulate or explain)`);
      return 2;
  }
}
