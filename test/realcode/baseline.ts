// The real-code alarm baseline (docs/DEVELOPING.md, "Real kernel code"): the triaged alarms of
// `faultline check` on Debian's Linux 6.1 tree, one JSON file per rule under
// test/realcode/linux-6.1/, compared with what the CLI reports today. Used by the whole-tree test
// (test/realcode/linux-6.1.test.ts) and by `npm run realcode:alarms` (scripts/realcode-alarms.mjs),
// so that both say the same thing about the same run.

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

export const VERDICTS = ['real', 'concern'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One triaged alarm: where it fires (path relative to the tree root, function, rule) and why it stays. */
export interface BaselineEntry {
  path: string;
  function: string;
  rule: string;
  verdict: Verdict;
  reason: string;
}

/** One alarm reported by the CLI, its path made relative to the tree root. */
export interface Alarm {
  path: string;
  function: string;
  rule: string;
  line: number;
  severity: string;
  message: string;
}

/** Something the run itself went wrong on, or told the user about (budget notes). */
export interface RunProblem {
  path: string;
  line?: number;
  severity: string;
  message: string;
}

export interface CheckRun {
  /** Warning/error findings of the rules: what the baseline is compared with. */
  alarms: Alarm[];
  /** Information-level findings (budget notes and the like): reported, never compared. */
  notes: Alarm[];
  /** `degraded` findings: a rule threw on a function (an internal error). */
  degraded: Alarm[];
  /** The report's `problems`: unreadable files, internal errors, analyses stopped by a budget. */
  problems: RunProblem[];
  /** CLI exit status and stderr (kept for the failure message). */
  status: number | null;
  stderr: string;
  wallMs: number;
  /** Set when stdout was not the JSON report (crash, out of memory, killed). */
  crash?: string;
}

export const key = (x: { path: string; function: string; rule: string }): string => `${x.path}\u0000${x.function}\u0000${x.rule}`;

export function baselineDir(root: string): string {
  return join(root, 'test', 'realcode', 'linux-6.1');
}

const ENTRY_FIELDS = ['path', 'function', 'rule', 'verdict', 'reason'];

/**
 * Read and validate every `<rule-id>.json` of the baseline folder. Format errors are returned,
 * not thrown, so a test can list them all at once.
 */
export function loadBaseline(dir: string): { entries: BaselineEntry[]; errors: string[] } {
  const entries: BaselineEntry[] = [];
  const errors: string[] = [];
  if (!existsSync(dir)) return { entries, errors };
  const seen = new Set<string>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    const rule = name.slice(0, -'.json'.length);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      errors.push(`${name}: not JSON (${(e as Error).message})`);
      continue;
    }
    if (!Array.isArray(data)) { errors.push(`${name}: not a JSON array`); continue; }
    let prev: BaselineEntry | undefined;
    data.forEach((raw: unknown, i: number) => {
      const where = `${name}[${i}]`;
      if (!raw || typeof raw !== 'object') { errors.push(`${where}: not an object`); return; }
      const o = raw as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => !ENTRY_FIELDS.includes(k));
      if (extra.length) errors.push(`${where}: unknown field(s) ${extra.join(', ')}`);
      for (const f of ENTRY_FIELDS) {
        if (typeof o[f] !== 'string' || !(o[f] as string).trim()) errors.push(`${where}: "${f}" must be a non-empty string`);
      }
      if (ENTRY_FIELDS.some((f) => typeof o[f] !== 'string')) return;
      const e = o as unknown as BaselineEntry;
      if (e.rule !== rule) errors.push(`${where}: rule "${e.rule}" in ${name} (one file per rule)`);
      if (!(VERDICTS as readonly string[]).includes(e.verdict)) {
        errors.push(`${where}: verdict "${e.verdict}" (only real or concern; a false alarm is fixed in the analysis, never written down)`);
      }
      if (isAbsolute(e.path) || e.path.startsWith('./') || e.path.split('/').includes('..')) errors.push(`${where}: path "${e.path}" must be relative to the tree root`);
      if (e.reason.includes('\n')) errors.push(`${where}: reason must be one line`);
      const k = key(e);
      if (seen.has(k)) errors.push(`${where}: duplicate entry for ${e.path} ${e.function} ${e.rule}`);
      seen.add(k);
      if (prev && compareEntries(prev, e) > 0) errors.push(`${where}: not sorted by path then function (${e.path} ${e.function} after ${prev.path} ${prev.function})`);
      prev = e;
      entries.push({ path: e.path, function: e.function, rule: e.rule, verdict: e.verdict, reason: e.reason });
    });
  }
  return { entries, errors };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export function compareEntries(a: { path: string; function: string; rule: string }, b: { path: string; function: string; rule: string }): number {
  return cmp(a.path, b.path) || cmp(a.function, b.function) || cmp(a.rule, b.rule);
}

/** What part of the tree and which rules a run covered: entries outside it cannot vanish. */
export interface Scope {
  rules?: string[];
  /** Directories or files relative to the tree root ('.' or empty: all of it). */
  dirs?: string[];
}

export function inScope(path: string, rule: string, scope: Scope): boolean {
  if (scope.rules?.length && !scope.rules.includes(rule)) return false;
  const dirs = (scope.dirs ?? []).map((d) => d.replace(/^\.\/+/, '').replace(/\/+$/, '')).filter((d) => d && d !== '.');
  return dirs.length === 0 || dirs.some((d) => path === d || path.startsWith(d + '/'));
}

export interface Comparison {
  /** Alarms with no baseline entry, one per (path, function, rule) key (the first line). */
  untriaged: Alarm[];
  /** Baseline entries in scope that no longer fire. */
  vanished: BaselineEntry[];
  /** Alarm keys that match an entry. */
  matched: number;
  /** Distinct alarm keys. */
  keys: number;
}

export function compare(alarms: Alarm[], baseline: BaselineEntry[], scope: Scope = {}): Comparison {
  const known = new Set(baseline.map(key));
  const firing = new Map<string, Alarm>();
  for (const a of [...alarms].sort((x, y) => compareEntries(x, y) || x.line - y.line)) {
    if (!firing.has(key(a))) firing.set(key(a), a);
  }
  const untriaged = [...firing.values()].filter((a) => !known.has(key(a)));
  const vanished = baseline.filter((e) => inScope(e.path, e.rule, scope) && !firing.has(key(e))).sort(compareEntries);
  return { untriaged, vanished, matched: firing.size - untriaged.length, keys: firing.size };
}

/**
 * Find the Linux 6.1 tree without installing anything: FAULTLINE_LINUX_TREE, else what
 * `scripts/ensure-linux-tree.sh --check` prints. `message` says why there is none.
 */
export function findTree(root: string, env: NodeJS.ProcessEnv = process.env): { path?: string; message: string } {
  const script = join(root, 'scripts', 'ensure-linux-tree.sh');
  const r = spawnSync('bash', [script, '--check'], { encoding: 'utf8', env });
  const path = r.stdout.trim();
  if (r.status === 0 && path && existsSync(join(path, 'mm'))) return { path, message: '' };
  return { message: (r.stderr.trim() || r.error?.message || `exit ${r.status}`) };
}

export interface RunOptions extends Scope {
  /** Extra CLI arguments (before the paths). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Run the real CLI (`bin/faultline check --format json`) from the tree root over `dirs` (default:
 * the whole tree), the way a user does, and sort what it reports.
 */
export function runCheck(root: string, tree: string, opts: RunOptions = {}): CheckRun {
  // --no-cache: a result reused from an earlier run could hide a crash of this one.
  const argv = [join(root, 'bin', 'faultline'), 'check', '--format', 'json', '--no-cache'];
  if (opts.rules?.length) argv.push('--rule', opts.rules.join(','));
  argv.push(...(opts.args ?? []), '--', ...(opts.dirs?.length ? opts.dirs : ['.']));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, argv, {
    cwd: tree, encoding: 'utf8', maxBuffer: 1 << 30, env: opts.env ?? process.env,
  });
  const wallMs = Date.now() - t0;
  const run: CheckRun = { alarms: [], notes: [], degraded: [], problems: [], status: r.status, stderr: r.stderr ?? '', wallMs };
  const rel = (p: string) => relative(tree, resolve(tree, p)).split(sep).join('/');
  let out: { diagnostics?: Array<Record<string, unknown>>; problems?: Array<Record<string, unknown>> };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    run.crash = `the CLI printed no JSON report (exit ${r.status}${r.signal ? `, signal ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''})`;
    return run;
  }
  for (const d of out.diagnostics ?? []) {
    const a: Alarm = {
      path: rel(String(d.file)), function: String(d.function ?? ''), rule: String(d.rule),
      line: Number(d.line), severity: String(d.severity), message: String(d.message),
    };
    if (a.rule === 'degraded') run.degraded.push(a);
    else if (a.severity === 'info') run.notes.push(a);
    else run.alarms.push(a);
  }
  for (const p of out.problems ?? []) {
    run.problems.push({ path: rel(String(p.file)), severity: String(p.severity), message: String(p.message), ...(p.line ? { line: Number(p.line) } : {}) });
  }
  return run;
}

/**
 * A file skipped by the input size limit (FAULTLINE_MAX_FILE_BYTES): a bound the user is told
 * about, by name, like a budget note; the 6.1 tree has a few generated register headers past it.
 */
export function isSizeLimitNote(p: RunProblem): boolean {
  return /^file too large \(/.test(p.message);
}

/**
 * Problems that make a run's alarm set untrustworthy: crashes, internal errors, rules that threw
 * (`degraded`), unreadable files, analyses stopped by the wall-clock budget (an error today; a
 * time bound makes the findings depend on the machine). Notes (info/warning) and files skipped
 * by the size limit are reported by formatReport, not failures.
 */
export function runFailures(run: CheckRun): string[] {
  const out: string[] = [];
  if (run.crash) out.push(`${run.crash}\n${run.stderr.slice(-4000)}`);
  if (/internal error/.test(run.stderr) && !run.problems.some((p) => /internal error/.test(p.message))) out.push(`stderr: ${run.stderr.slice(-2000)}`);
  for (const p of run.problems) {
    if (p.severity === 'info' || p.severity === 'warning' || isSizeLimitNote(p)) continue;
    out.push(`${p.path}${p.line ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`);
  }
  for (const d of run.degraded) out.push(`${d.path}:${d.line}: ${d.function}(): ${d.message}`);
  return out;
}

/** The C files and lines a run over `dirs` reads (.c and .h, as the CLI's walk picks them). */
export function countLines(tree: string, dirs: string[] = ['.']): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  const walk = (abs: string, depth: number): void => {
    if (depth > 64) return;
    for (const name of readdirSync(abs)) {
      const p = join(abs, name);
      let st;
      try { st = lstatSync(p); } catch { continue; }
      if (st.isDirectory()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        walk(p, depth + 1);
      } else if (/\.[ch]$/.test(name)) {
        // Like the CLI's walk: symlinked directories are not followed, symlinked files are.
        try { if (!statSync(p).isFile()) continue; } catch { continue; }
        files++;
        const buf = readFileSync(p);
        let n = 0;
        for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
        if (buf.length && buf[buf.length - 1] !== 10) n++;
        lines += n;
      }
    }
  };
  for (const d of dirs) {
    const abs = resolve(tree, d);
    const st = statSync(abs);
    if (st.isDirectory()) walk(abs, 0);
    else if (st.isFile()) { files++; lines += readFileSync(abs, 'utf8').split('\n').length; }
  }
  return { files, lines };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The figures and the comparison, as the test and realcode:alarms print them. */
export function formatReport(run: CheckRun, cmp: Comparison, size: { files: number; lines: number } | undefined, scope: Scope): string {
  const out: string[] = [];
  const what = `${scope.dirs?.length ? scope.dirs.join(' ') : 'whole tree'}${scope.rules?.length ? `, rules ${scope.rules.join(',')}` : ''}`;
  const perM = size && size.lines ? (run.alarms.length / size.lines) * 1e6 : undefined;
  out.push(`real code (Linux 6.1, ${what}): ${size ? `${size.files} C files, ${size.lines} lines; ` : ''}` +
    `${run.alarms.length} alarms (${cmp.keys} distinct path/function/rule)` +
    `${perM !== undefined ? `, ${perM.toFixed(2)} per million lines` : ''}; ${run.notes.length} notes; wall time ${seconds(run.wallMs)}`);
  out.push(`baseline: ${cmp.matched} triaged alarms fire as recorded, ${cmp.untriaged.length} untriaged, ${cmp.vanished.length} recorded but no longer firing`);
  if (cmp.untriaged.length) {
    out.push('', `UNTRIAGED alarms (${cmp.untriaged.length}): triage each one. A real bug or a concern goes into ` +
      'test/realcode/linux-6.1/<rule>.json with a one-line reason; a false alarm is fixed in the analysis (with a fixture of our own in the same shape), never written down.');
    for (const a of cmp.untriaged) out.push(`  ${a.path}:${a.line}: ${a.function}(): ${a.rule}: ${a.message}`);
  }
  if (cmp.vanished.length) {
    out.push('', `VANISHED baseline entries (${cmp.vanished.length}): no longer reported; if the analysis was right to drop them, remove them from the baseline (a "real" one needs a reason why it is not a bug after all).`);
    for (const e of cmp.vanished) out.push(`  ${e.path}: ${e.function}(): ${e.rule} [${e.verdict}] ${e.reason}`);
  }
  const skipped = run.problems.filter(isSizeLimitNote);
  if (skipped.length) {
    out.push('', `skipped by the size limit (${skipped.length}):`);
    for (const p of skipped) out.push(`  ${p.path}: ${p.message}`);
  }
  if (run.notes.length) {
    const shown = run.notes.slice(0, 50);
    out.push('', `notes (${run.notes.length}${shown.length < run.notes.length ? `, first ${shown.length}` : ''}):`);
    for (const n of shown) out.push(`  ${n.path}:${n.line}: ${n.function}(): ${n.rule}: ${n.message}`);
  }
  return out.join('\n') + '\n';
}

export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * Skip policy of the whole-tree test, as node:test's `skip` value (a reason, or false to run):
 * in CI it always runs (a missing tree is a failure, reported by the test itself); outside CI it
 * is skipped when FAULTLINE_SKIP_REALCODE=1 asks, or when there is no tree, naming the command
 * that fetches one.
 */
export function realcodeSkip(env: NodeJS.ProcessEnv, tree: { path?: string; message: string }): string | false {
  if (isCI(env)) return false;
  if (env.FAULTLINE_SKIP_REALCODE === '1') return 'FAULTLINE_SKIP_REALCODE=1 (whole-tree real-code check skipped on request)';
  if (!tree.path) return `no Linux 6.1 tree on this machine; fetch it with scripts/ensure-linux-tree.sh (${tree.message})`;
  return false;
}
