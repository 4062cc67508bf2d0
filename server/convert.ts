// Engine findings -> LSP. Engine ranges are already UTF-16 columns with 0-based rows
// (engine/ir.ts), so positions pass through unchanged; this is the only file that maps them.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DiagnosticSeverity,
  type Diagnostic,
  type DiagnosticRelatedInformation,
  type Range,
} from 'vscode-languageserver';
import type { SourceRange } from '../engine/ir';
import type { Finding, InputProblem, Severity } from '../engine/findings';

export function toRange(r: SourceRange): Range {
  return { start: { line: r.startRow, character: r.startCol }, end: { line: r.endRow, character: r.endCol } };
}

export function toSeverity(s: Severity): DiagnosticSeverity {
  switch (s) {
    case 'error':
      return DiagnosticSeverity.Error;
    case 'warning':
      return DiagnosticSeverity.Warning;
    default:
      return DiagnosticSeverity.Information;
  }
}

let installRootCache: string | undefined;

/**
 * The directory that holds docs/rules: the repository when running from dist/ or out/server/,
 * the extension directory when packaged. Walk up from this module instead of guessing depth.
 */
export function installRoot(): string {
  if (installRootCache) return installRootCache;
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'docs', 'rules'))) return (installRootCache = dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // No docs found (a bare bundle): assume the bundle sits in <root>/dist.
  return (installRootCache = dirname(typeof __dirname === 'string' ? __dirname : process.cwd()));
}

/**
 * Link to a rule's page: `<docsBaseUrl>/<id>.md` when a base URL is configured; else the page in
 * the docs directory the client named (the VS Code extension ships its own copy); else the file
 * URI of the page inside the install (the rule meta names it relative to the repo root).
 */
export function docsUrl(ruleId: string, docsPath: string | undefined, baseUrl: string | undefined, docsDir?: string): string {
  if (baseUrl) return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(ruleId)}.md`;
  if (docsDir) return pathToFileURL(join(docsDir, `${ruleId}.md`)).href;
  return pathToFileURL(join(installRoot(), docsPath ?? join('docs', 'rules', `${ruleId}.md`))).href;
}

export interface DiagnosticData {
  /** Index of the finding in the result the diagnostic came from (code actions find it back). */
  finding: number;
  rule: string;
}

export function findingToDiagnostic(f: Finding, index: number, uri: string, href: string | undefined): Diagnostic {
  const related: DiagnosticRelatedInformation[] = (f.related ?? []).map((r) => ({
    location: { uri, range: toRange(r.range) },
    message: r.message,
  }));
  const d: Diagnostic = {
    range: toRange(f.range),
    severity: toSeverity(f.severity),
    code: f.rule,
    source: 'faultline',
    message: f.arch ? `${f.message} (${f.arch})` : f.message,
    data: { finding: index, rule: f.rule } satisfies DiagnosticData,
  };
  if (href) d.codeDescription = { href };
  if (related.length) d.relatedInformation = related;
  return d;
}

/** Input problems (a broken patch, a file that is not C) as one diagnostic each, at their range or the top. */
export function problemToDiagnostic(p: InputProblem): Diagnostic {
  return {
    range: p.range ? toRange(p.range) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: (p.severity ?? 'error') === 'error' ? DiagnosticSeverity.Error : p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    source: 'faultline',
    message: p.message,
  };
}

export function rangeContains(r: SourceRange, line: number, character: number): boolean {
  if (line < r.startRow || line > r.endRow) return false;
  if (line === r.startRow && character < r.startCol) return false;
  if (line === r.endRow && character > r.endCol) return false;
  return true;
}

/** Do the engine range and the LSP range overlap (touching counts: a cursor at the end of a squiggle). */
export function rangesTouch(r: SourceRange, q: Range): boolean {
  const before = (al: number, ac: number, bl: number, bc: number) => al < bl || (al === bl && ac < bc);
  return !before(r.endRow, r.endCol, q.start.line, q.start.character) && !before(q.end.line, q.end.character, r.startRow, r.startCol);
}
