// The four output formats of `faultline check` (ARCHITECTURE.md, "CLI"). Every position the
// engine hands over is 0-based (rows, UTF-16 columns); everything printed here is 1-based,
// columns counted in UTF-16 code units (what editors and SARIF's default columnKind use).

import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SourceRange } from '../ir';
import type { Finding, InputProblem, Severity } from '../findings';
import type { RuleMeta } from '../rules/types';
import type { PatchTarget } from '../patch/analyze';

export interface FileReport {
  /** Path as printed: as the user gave it, or built by the directory walk; `<stdin>` for `-`. */
  path: string;
  kind: 'c' | 'patch';
  findings: Finding[];
  /** For patches: where each finding lands in the patched file (parallel to `findings`). */
  targets?: (PatchTarget | undefined)[];
  /** For patches: how many patches the input holds (a series when more than one). */
  patches?: number;
  problems: InputProblem[];
}

export interface InputFailure {
  path: string;
  message: string;
}

export interface Report {
  files: FileReport[];
  /** Files that could not be read at all (binary, not UTF-8, unreadable, too large). */
  failures: InputFailure[];
  /** Metadata of the rules that ran, in registry order (SARIF rule table). */
  rules: RuleMeta[];
}

export const STDIN_LABEL = '<stdin>';

const pos = (r: SourceRange) => ({ line: r.startRow + 1, column: r.startCol + 1, endLine: r.endRow + 1, endColumn: r.endCol + 1 });

function isError(p: InputProblem): boolean {
  return (p.severity ?? 'error') === 'error';
}

/** True when the input itself had errors (exit 2). */
export function hasInputErrors(report: Report): boolean {
  return report.failures.length > 0 || report.files.some((f) => f.problems.some(isError));
}

/** 0 nothing to report, 1 at least one warning or error finding, 2 an input error (wins over 1). */
export function exitCodeOf(report: Report): number {
  if (hasInputErrors(report)) return 2;
  const counted = report.files.some((f) => f.findings.some((x) => x.severity === 'error' || x.severity === 'warning'));
  return counted ? 1 : 0;
}

function withArch(f: Finding): string {
  return f.arch ? `${f.message} (on ${f.arch})` : f.message;
}

function targetNote(t: PatchTarget | undefined): string | undefined {
  if (!t) return undefined;
  const subject = t.subject ? ` ${t.subject}` : '';
  return `${t.path}:${t.line}:${t.column}: note: in the patched file (patch ${t.patchIndex}${subject ? ':' + subject : ''})`;
}

/** `path:line:col: severity: message [rule-id]`, related locations and trace steps as notes. */
export function formatText(report: Report): string {
  const out: string[] = [];
  for (const file of report.files) {
    file.findings.forEach((f, i) => {
      const p = pos(f.range);
      out.push(`${file.path}:${p.line}:${p.column}: ${f.severity}: ${withArch(f)} [${f.rule}]`);
      for (const r of f.related ?? []) {
        const q = pos(r.range);
        out.push(`  ${file.path}:${q.line}:${q.column}: note: ${r.message}`);
      }
      for (const s of f.trace ?? []) {
        const where = s.range ? `${file.path}:${s.range.startRow + 1}:${s.range.startCol + 1}: ` : '';
        const extra = [s.delta, s.note].filter(Boolean).join('; ');
        const who = f.traceThreads?.[s.thread];
        out.push(`  ${where}note: [thread ${s.thread}${who ? `: ${who}` : ''}] ${s.operation}${extra ? ` (${extra})` : ''}`);
      }
      const t = targetNote(file.targets?.[i]);
      if (t) out.push(`  ${t}`);
    });
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Input problems and failures, one line each, for stderr. */
export function formatProblems(report: Report): string {
  const out: string[] = [];
  for (const f of report.failures) out.push(`faultline: ${f.path}: ${f.message}`);
  for (const file of report.files) {
    for (const p of file.problems) {
      const where = p.range ? `${file.path}:${p.range.startRow + 1}` : file.path;
      const level = p.severity === 'info' ? 'note: ' : p.severity === 'warning' ? 'warning: ' : '';
      out.push(`faultline: ${where}: ${level}${p.message}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * `FILE:LINE: ERROR:RULE-ID: message`, like `checkpatch.pl --terse`. With `showfile` (like
 * checkpatch's `--showfile`), findings in a patch name the patched file and its line instead of
 * the patch and the patch line.
 */
export function formatCheckpatch(report: Report, opts: { showfile?: boolean } = {}): string {
  const level: Record<Severity, string> = { error: 'ERROR', warning: 'WARNING', info: 'CHECK' };
  const out: string[] = [];
  for (const file of report.files) {
    file.findings.forEach((f, i) => {
      const t = opts.showfile ? file.targets?.[i] : undefined;
      const where = t ? `${t.path}:${t.line}` : `${file.path}:${f.range.startRow + 1}`;
      // The message cites lines in the numbering of the location printed before it.
      const shown = t?.message !== undefined ? { ...f, message: t.message } : f;
      // In a series, name the patch that introduced the finding (one line per finding, as review bots do).
      const patch = (file.patches ?? 0) > 1 && file.targets?.[i] ? ` (introduced by ${file.targets[i]!.subject ?? `patch ${file.targets[i]!.patchIndex}`})` : '';
      out.push(`${where}: ${level[f.severity]}:${f.rule}: ${withArch(shown)}${patch}`);
    });
  }
  return out.length ? out.join('\n') + '\n' : '';
}

export function toJson(report: Report): unknown {
  const diagnostics: unknown[] = [];
  for (const file of report.files) {
    file.findings.forEach((f, i) => {
      const p = pos(f.range);
      const d: Record<string, unknown> = {
        file: file.path, line: p.line, column: p.column, endLine: p.endLine, endColumn: p.endColumn,
        rule: f.rule, severity: f.severity, message: f.message, function: f.function,
      };
      if (f.arch) d.arch = f.arch;
      if (f.trace?.length) {
        d.trace = f.trace.map((s) => ({
          thread: s.thread, operation: s.operation,
          ...(s.range ? { line: s.range.startRow + 1, column: s.range.startCol + 1 } : {}),
          ...(s.delta ? { delta: s.delta } : {}), ...(s.note ? { note: s.note } : {}),
        }));
        if (f.traceThreads?.length) d.traceThreads = f.traceThreads;
      }
      if (f.related?.length) {
        d.related = f.related.map((r) => ({ line: r.range.startRow + 1, column: r.range.startCol + 1, endLine: r.range.endRow + 1, endColumn: r.range.endCol + 1, message: r.message }));
      }
      const t = file.targets?.[i];
      if (t) d.target = { file: t.path, line: t.line, column: t.column, patch: t.patchIndex, ...(t.subject ? { subject: t.subject } : {}), ...(t.message !== undefined ? { message: t.message } : {}) };
      diagnostics.push(d);
    });
  }
  const problems = [
    ...report.failures.map((f) => ({ file: f.path, severity: 'error', message: f.message })),
    ...report.files.flatMap((file) => file.problems.map((p) => ({
      file: file.path, severity: p.severity ?? 'error', message: p.message,
      ...(p.range ? { line: p.range.startRow + 1, column: p.range.startCol + 1 } : {}),
    }))),
  ];
  return { version: 1, diagnostics, ...(problems.length ? { problems } : {}) };
}

export function formatJson(report: Report): string {
  return JSON.stringify(toJson(report), null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------
// SARIF 2.1.0

export interface SarifOptions {
  /** Directory that relative artifact URIs are resolved against (%SRCROOT%). */
  cwd: string;
  /**
   * Base URI the rules' docs paths (`docs/rules/<id>.md`, relative to the repository root) are
   * resolved against, for helpUri: FAULTLINE_DOCS_BASE, else a file:// URI of the installed root.
   */
  docsBase: string;
  toolVersion: string;
  /** `--tree DIR`: patched files' post-image locations are resolved in it (else in `cwd`). */
  tree?: string;
}

/**
 * A fingerprint that survives line moves (GitHub code scanning matches alerts across runs by
 * `partialFingerprints`): rule, file, function and message with every number taken out, plus
 * the occurrence of that key in the run.
 */
export function fingerprintKey(rule: string, path: string, fn: string, message: string): string {
  return createHash('sha256').update(`${rule}\u0000${path}\u0000${fn}\u0000${message.replace(/\d+/g, '#')}`).digest('hex').slice(0, 32);
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

function pascalName(id: string): string {
  return id.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

function encodePath(p: string): string {
  return p.split('/').map((seg) => encodeURIComponent(seg)).join('/');
}

/** Artifact location: relative to %SRCROOT% when inside it, an absolute file URI otherwise. */
function artifactLocation(path: string, cwd: string): Record<string, string> {
  if (path === STDIN_LABEL) return { uri: 'stdin' };
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
    return { uri: encodePath(rel.split(sep).join('/')), uriBaseId: '%SRCROOT%' };
  }
  return { uri: pathToFileURL(abs).href };
}

function region(r: SourceRange): Record<string, number> {
  const p = pos(r);
  return { startLine: p.line, startColumn: p.column, endLine: p.endLine, endColumn: Math.max(p.endColumn, p.endLine === p.line ? p.column : 1) };
}

function physical(path: string, r: SourceRange, cwd: string) {
  return { artifactLocation: artifactLocation(path, cwd), region: region(r) };
}

export function helpUriOf(meta: RuleMeta, docsBase: string): string {
  const base = docsBase.endsWith('/') ? docsBase : docsBase + '/';
  try {
    return new URL(meta.docs.split('/').map(encodeURIComponent).join('/'), base).href;
  } catch {
    return base + meta.docs;
  }
}

export function toSarif(report: Report, opts: SarifOptions): unknown {
  const ruleIndex = new Map<string, number>();
  const rules = report.rules.map((m, i) => {
    ruleIndex.set(m.id, i);
    return {
      id: m.id,
      name: pascalName(m.id),
      shortDescription: { text: m.title },
      fullDescription: { text: m.description },
      helpUri: helpUriOf(m, opts.docsBase),
      help: { text: `${m.description} See ${helpUriOf(m, opts.docsBase)}` },
      defaultConfiguration: { level: SARIF_LEVEL[m.severity] },
    };
  });
  const results: unknown[] = [];
  // Patches are artifacts of their own (the analysis target); a patch finding's location is in
  // the patched file (the post-image), which is what code scanning can show in the repository.
  const artifacts: Record<string, unknown>[] = [];
  const artifactIndex = new Map<string, number>();
  const occurrences = new Map<string, number>();
  for (const file of report.files) {
    if (file.kind === 'patch' && file.findings.length > 0) {
      artifactIndex.set(file.path, artifacts.length);
      artifacts.push({ location: artifactLocation(file.path, opts.cwd), roles: ['analysisTarget'], mimeType: 'text/x-diff', sourceLanguage: 'diff' });
    }
    file.findings.forEach((f, i) => {
      const t = file.targets?.[i];
      const logical = f.function ? { logicalLocations: [{ name: f.function, kind: 'function' }] } : {};
      const patchLocation = { physicalLocation: { artifactLocation: { ...artifactLocation(file.path, opts.cwd), ...(artifactIndex.has(file.path) ? { index: artifactIndex.get(file.path) } : {}) }, region: region(f.range) } };
      const postImage = t ? {
        physicalLocation: {
          artifactLocation: opts.tree ? artifactLocation(join(resolve(opts.cwd, opts.tree), t.path), opts.cwd) : { uri: encodePath(t.path), uriBaseId: '%SRCROOT%' },
          region: { startLine: Math.max(1, t.line), startColumn: Math.max(1, t.column) },
        },
      } : undefined;
      const key = fingerprintKey(f.rule, t ? t.path : file.path, f.function, t?.message ?? f.message);
      const nth = (occurrences.get(key) ?? 0) + 1;
      occurrences.set(key, nth);
      const result: Record<string, unknown> = {
        ruleId: f.rule,
        level: SARIF_LEVEL[f.severity],
        // The message cites lines in the numbering of the primary location (the patched file).
        message: { text: withArch(t?.message !== undefined ? { ...f, message: t.message } : f) },
        locations: [postImage ? { ...postImage, ...logical } : { physicalLocation: physical(file.path, f.range, opts.cwd), ...logical }],
        partialFingerprints: { 'faultlineFinding/v1': `${key}:${nth}` },
      };
      const idx = ruleIndex.get(f.rule);
      if (idx !== undefined) result.ruleIndex = idx;
      const related: unknown[] = [];
      if (t) {
        result.analysisTarget = patchLocation.physicalLocation.artifactLocation;
        related.push({ id: 0, ...patchLocation, message: { text: `in the patch${t.subject ? ` ${t.subject}` : ` (patch ${t.patchIndex})`}: ${f.message}` } });
      }
      for (const r of f.related ?? []) {
        related.push({ id: related.length + (t ? 0 : 1), physicalLocation: physical(file.path, r.range, opts.cwd), message: { text: r.message } });
      }
      if (related.length) result.relatedLocations = related;
      if (f.trace?.length) {
        const threads = new Map<number, unknown[]>();
        let order = 0;
        for (const s of f.trace) {
          const text = [s.operation, s.delta, s.note].filter(Boolean).join(' — ');
          const loc: Record<string, unknown> = { message: { text } };
          if (s.range) loc.physicalLocation = physical(file.path, s.range, opts.cwd);
          if (!threads.has(s.thread)) threads.set(s.thread, []);
          const state = stepState(s);
          threads.get(s.thread)!.push({ location: loc, executionOrder: ++order, ...(state ? { state } : {}) });
        }
        result.codeFlows = [{
          message: { text: `How ${f.rule} happens` },
          threadFlows: [...threads.entries()].map(([id, locations]) => ({
            id: `thread-${id}`, ...(f.traceThreads?.[id] ? { message: { text: f.traceThreads[id] } } : {}), locations,
          })),
        }];
      }
      const props: Record<string, unknown> = {};
      if (f.arch) props.arch = f.arch;
      if (t) {
        props.patchedFile = { path: t.path, line: t.line, column: t.column, patch: t.patchIndex };
        props.patch = { index: t.patchIndex, ...(t.subject ? { subject: t.subject } : {}) };
      }
      if (Object.keys(props).length) result.properties = props;
      results.push(result);
    });
  }
  const notifications: unknown[] = [];
  for (const fail of report.failures) {
    notifications.push({ level: 'error', message: { text: `${fail.path}: ${fail.message}` },
      ...(fail.path !== STDIN_LABEL ? { locations: [{ physicalLocation: { artifactLocation: artifactLocation(fail.path, opts.cwd) } }] } : {}) });
  }
  for (const file of report.files) {
    for (const p of file.problems) {
      notifications.push({
        level: SARIF_LEVEL[p.severity ?? 'error'] ?? 'error',
        message: { text: `${file.path}: ${p.message}` },
        locations: [{ physicalLocation: p.range ? physical(file.path, p.range, opts.cwd) : { artifactLocation: artifactLocation(file.path, opts.cwd) } }],
      });
    }
  }
  const srcroot = pathToFileURL(opts.cwd.endsWith(sep) ? opts.cwd : opts.cwd + sep).href;
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'faultline',
          version: opts.toolVersion,
          semanticVersion: opts.toolVersion,
          informationUri: helpUriOf({ docs: 'README.md' } as RuleMeta, opts.docsBase),
          rules,
        },
      },
      originalUriBaseIds: { '%SRCROOT%': { uri: srcroot } },
      columnKind: 'utf16CodeUnits',
      ...(artifacts.length ? { artifacts } : {}),
      invocations: [{ executionSuccessful: !hasInputErrors(report), ...(notifications.length ? { toolExecutionNotifications: notifications } : {}) }],
      results,
    }],
  };
}

export function formatSarif(report: Report, opts: SarifOptions): string {
  return JSON.stringify(toSarif(report, opts), null, 2) + '\n';
}

/** `--summary`: one line per rule with its count, then the files checked. */
export function formatSummary(report: Report): string {
  const counts = new Map<string, number>();
  for (const m of report.rules) counts.set(m.id, 0);
  let total = 0;
  for (const f of report.files) for (const x of f.findings) { counts.set(x.rule, (counts.get(x.rule) ?? 0) + 1); total++; }
  // Always-on pseudo-rules (annotation problems, degraded checks) only show when they fired.
  const selected = new Set(report.rules.map((m) => m.id));
  for (const id of ['annotation', 'degraded', 'budget']) if (selected.has(id) && counts.get(id) === 0) counts.delete(id);
  const lines = [...counts.entries()].map(([id, n]) => `${id}: ${n} finding${n === 1 ? '' : 's'}`);
  const withFindings = report.files.filter((f) => f.findings.length > 0).length;
  const checked = report.files.length;
  const failed = report.failures.length;
  lines.push(`${checked} file${checked === 1 ? '' : 's'} checked, ${withFindings} with findings, ${total} finding${total === 1 ? '' : 's'} in all` +
    (failed ? `, ${failed} file${failed === 1 ? '' : 's'} could not be read` : ''));
  return lines.join('\n') + '\n';
}

/** SARIF threadFlowLocation.state: what changed at the step, from its typed facts and delta. */
function stepState(s: NonNullable<Finding['trace']>[number]): Record<string, { text: string }> | undefined {
  const st: Record<string, { text: string }> = {};
  const f = s.facts;
  if (f?.copy) {
    st['bytes copied'] = { text: `${f.copy.copied} of ${f.copy.asked}` };
    if (f.copy.faultAt !== undefined) st['fault address'] = { text: `0x${f.copy.faultAt.toString(16)}` };
  }
  if (f?.faultIn) st['fault-in'] = { text: `0x${f.faultIn.addr.toString(16)} +${f.faultIn.len}: ${f.faultIn.ok ? 'success' : `${f.faultIn.ret} left`}` };
  if (f?.choice) st.choice = { text: `${f.choice.of} = ${f.choice.value}` };
  if (f?.precondition) st.precondition = { text: f.precondition };
  if (f?.cycle === 'again') st.cycle = { text: 'repeats' };
  if (s.delta) st.changed = { text: s.delta };
  return Object.keys(st).length ? st : undefined;
}
