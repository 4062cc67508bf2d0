// Hover, code actions and code lens over one document's latest analysis. Pure functions of the
// session and the request, so the server stays a thin dispatcher (rust-analyzer's shape).

import {
  CodeActionKind,
  MarkupKind,
  type CodeAction,
  type CodeActionParams,
  type CodeLens,
  type Diagnostic,
  type Hover,
  type Position,
  type TextEdit as LspTextEdit,
} from 'vscode-languageserver';
import type { DocumentSession, SessionResult } from '../engine/session';
import type { Finding } from '../engine/findings';
import type { RuleMeta } from '../engine/rules/types';
import { lookupApi } from '../engine/kernel/api-table';
import { explainApi } from '../engine/explain/api-hover';
import { lockHover } from '../engine/explain/lock-hover';
import { lensTitle, summarizeFile } from '../engine/explain/function-summary';
import { faultWindowHover, simulateLenses } from '../engine/explain/fault-window';
import { seedSimulateLenses } from '../engine/sim/simulate-seed';
import { coverageMarkdown } from '../engine/sim/coverage';
import type { FileIR, SourceRange } from '../engine/ir';
import { ruleById } from '../engine/rules/registry';
import { docsUrl, findingToDiagnostic, rangeContains, rangesTouch, toRange } from './convert';
import { SIMULATE_COMMAND } from './simulate';

/** The command the VS Code client implements (opens the page); other clients get it too. */
export const SHOW_RULE_DOC_COMMAND = 'faultline.showRuleDoc';

/** The registry may hand back a Rule ({meta, check}) or its meta; accept either. */
export function ruleMeta(id: string): RuleMeta | undefined {
  try {
    const r = (ruleById as (id: string) => unknown)(id) as { meta?: RuleMeta } | RuleMeta | undefined;
    if (!r) return undefined;
    return 'meta' in r && r.meta ? r.meta : (r as RuleMeta);
  } catch {
    return undefined;
  }
}

/** Where a rule's page is, given the settings that may move it. */
export type DocsLink = (ruleId: string) => string;

export function docsLinker(baseUrl?: string, docsDir?: string): DocsLink {
  return (id) => docsUrl(id, ruleMeta(id)?.docs, baseUrl, docsDir);
}

const IDENT = /[A-Za-z0-9_]/;

/** The C identifier under (or just before) the cursor. */
export function identifierAt(text: string, offset: number): { name: string; start: number; end: number } | undefined {
  let start = offset;
  let end = offset;
  while (start > 0 && IDENT.test(text[start - 1])) start--;
  while (end < text.length && IDENT.test(text[end])) end++;
  if (start === end || /[0-9]/.test(text[start])) return undefined;
  return { name: text.slice(start, end), start, end };
}

export interface HoverOptions {
  /** Kernel version the fault-window numbers assume (settings `faultline.kernel`). */
  kernel?: string;
}

/** The fault window of the call or loop head under the cursor (issue 4); never throws into the hover. */
function faultWindowSection(file: FileIR | undefined, text: string, pos: Position, kernel?: string): { markdown: string; range: Hover['range'] } | undefined {
  if (!file) return undefined;
  try {
    const fw = faultWindowHover(file, pos.line, pos.character, { text, ...(kernel ? { kernel } : {}) });
    return fw ? { markdown: fw.markdown, range: toRange(fw.range) } : undefined;
  } catch {
    return undefined;
  }
}

export function hover(
  session: DocumentSession,
  result: SessionResult | undefined,
  pos: Position,
  docsLink: DocsLink = docsLinker(),
  opts: HoverOptions = {},
): Hover | null {
  const sections: string[] = [];
  let range: Hover['range'];
  const offset = session.offsetAt(pos);
  const ident = identifierAt(session.text, offset);
  if (ident && lookupApi(ident.name)) {
    const md = explainApi(ident.name);
    if (md) {
      sections.push(md);
      const s = session.positionAt(ident.start);
      const e = session.positionAt(ident.end);
      range = { start: s, end: e };
    }
  }
  // This call site's fault window goes first: it is about this line, the API text is generic.
  const fw = session.kind === 'c' ? faultWindowSection(result?.file, session.text, pos, opts.kernel) : undefined;
  if (fw) {
    sections.unshift(fw.markdown);
    range ??= fw.range;
  }
  if (session.kind === 'c' && result?.file) {
    try {
      const lh = lockHover(result.file, session.text, pos.line, pos.character, opts.kernel ? { kernel: opts.kernel } : {});
      if (lh) {
        sections.unshift(lh.markdown);
        range ??= toRange(lh.range);
      }
    } catch {
      // A hover never fails because of one analysis.
    }
  }
  for (const f of result?.findings ?? []) {
    if (!rangeContains(f.range, pos.line, pos.character)) continue;
    const meta = ruleMeta(f.rule);
    const title = meta?.title ? ` — ${meta.title}` : '';
    const sim = f.simulation?.length ? `\n\n${coverageMarkdown(f.simulation)}` : '';
    sections.push(`**faultline** \`${f.rule}\`${title}\n\n${f.message}${sim}\n\n[Documentation for ${f.rule}](${docsLink(f.rule)})`);
    if (!range) range = toRange(f.range);
  }
  if (!sections.length) return null;
  return { contents: { kind: MarkupKind.Markdown, value: sections.join('\n\n---\n\n') }, range };
}

/** Text of the comment that silences `rule` for the next line (docs/annotations.md). */
export function suppressionComment(rule: string): string {
  return `// @faultline suppress ${rule}: reason`;
}

function wants(only: string[] | undefined, kind: string): boolean {
  if (!only || only.length === 0) return true;
  return only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

export function codeActions(
  session: DocumentSession,
  result: SessionResult | undefined,
  params: CodeActionParams,
  docsLink: DocsLink = docsLinker(),
): CodeAction[] {
  if (!result) return [];
  const uri = session.uri;
  const only = params.context.only;
  const out: CodeAction[] = [];
  const disabledLines = new Set<string>();
  result.findings.forEach((f: Finding, index) => {
    if (!rangesTouch(f.range, params.range)) return;
    const href = docsLink(f.rule);
    const diag: Diagnostic = findingToDiagnostic(f, index, uri, href);
    if (wants(only, CodeActionKind.QuickFix)) {
      (f.fixes ?? []).forEach((fix, i) => {
        const edits: LspTextEdit[] = fix.edits.map((e) => ({ range: toRange(e.range), newText: e.newText }));
        out.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diag], isPreferred: i === 0, edit: { changes: { [uri]: edits } } });
      });
      // A patch document is not the code: suppressing there would edit the mail, not the source.
      const key = `${f.rule}:${f.range.startRow}`;
      if (session.kind === 'c' && !disabledLines.has(key)) {
        disabledLines.add(key);
        const line = f.range.startRow;
        const lineStart = session.offsetAt({ line, character: 0 });
        const indent = /^[ \t]*/.exec(session.text.slice(lineStart, lineStart + 200))?.[0] ?? '';
        out.push({
          title: `Disable ${f.rule} for this line`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diag],
          edit: { changes: { [uri]: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: `${indent}${suppressionComment(f.rule)}\n` }] } },
        });
      }
    }
    if (wants(only, CodeActionKind.QuickFix) && !out.some((a) => a.command?.arguments?.[0] === f.rule)) {
      out.push({
        title: `Show documentation for ${f.rule}`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diag],
        command: { title: `Show documentation for ${f.rule}`, command: SHOW_RULE_DOC_COMMAND, arguments: [f.rule, href] },
      });
    }
  });
  return out;
}

/** The argument of `faultline.simulate` (lens, code action) and `faultline.server.simulate`. */
export interface SimulateArgs {
  uri: string;
  function: string;
}

/** A function "Simulate" runs: a fault-in retry loop (uaccess-livelock) or a seed rule's shape (fault-under-lock, wrprotect-under-read-lock). */
interface Simulatable {
  function: string;
  nameRange: SourceRange;
  /** What the simulation is about, for the tooltip. */
  about: string;
}

/** The functions of the session's lowered file that "Simulate" can run; none on error. */
function simulatable(session: DocumentSession, result: SessionResult | undefined, cancelled?: () => boolean, kernel?: string): Simulatable[] {
  if (!result?.file) return [];
  const out = new Map<string, Simulatable>();
  try {
    for (const l of simulateLenses(result.file, cancelled)) out.set(l.function, { function: l.function, nameRange: l.nameRange, about: l.loops.map((x) => x.label).join('; ') });
  } catch {
    // A lens never fails because of one analysis.
  }
  try {
    // A function with a fault-in loop runs the loop's simulation; the others their seed rule's scenario.
    for (const l of seedSimulateLenses(result.file, session.text, { ...(cancelled ? { cancelled } : {}), ...(kernel ? { kernel } : {}) })) {
      if (out.has(l.function)) continue;
      out.set(l.function, { function: l.function, nameRange: l.nameRange, about: l.seeds.flatMap((s) => s.labels.map((x) => `${s.rule}: ${x}`)).join('; ') });
    }
  } catch {
    // Same.
  }
  return [...out.values()];
}

/** "Simulate this function" when the cursor or selection is inside a function "Simulate" can run (a fault-in retry loop, a seed rule's shape). */
export function simulateCodeActions(session: DocumentSession, result: SessionResult | undefined, params: CodeActionParams, kernel?: string): CodeAction[] {
  if (session.kind !== 'c' || !result?.file) return [];
  // Not a quick fix: offered only when the client asks for every kind.
  if (params.context.only?.length) return [];
  const { start, end } = params.range;
  const fn = result.file.functions.find(
    (f) => (f.range.startRow < start.line || (f.range.startRow === start.line && f.range.startCol <= start.character))
      && (end.line < f.range.endRow || (end.line === f.range.endRow && end.character <= f.range.endCol)),
  );
  if (!fn || !simulatable(session, result, undefined, kernel).some((l) => l.function === fn.name)) return [];
  const args: SimulateArgs = { uri: session.uri, function: fn.name };
  const title = 'Simulate this function';
  return [{ title, command: { title, command: SIMULATE_COMMAND, arguments: [args] } }];
}

export function codeLenses(session: DocumentSession, result: SessionResult | undefined, cancelled: () => boolean, kernel?: string): CodeLens[] {
  if (!result?.file || session.kind !== 'c') return [];
  const lenses: CodeLens[] = [];
  for (const s of summarizeFile(result.file, { cancelled })) {
    const inside = result.findings.filter((f) => f.range.start >= s.range.start && f.range.end <= s.range.end).length;
    const title = lensTitle(s, inside);
    // No command id: the lens informs; the "Simulate" lens below acts.
    lenses.push({ range: toRange(s.nameRange), command: { title, command: '' } });
  }
  // "Simulate" over each function with a fault-in retry loop (issue 4) or a seed rule's shape (issue 9): runs the simulator.
  for (const l of simulatable(session, result, cancelled, kernel)) {
    const args: SimulateArgs = { uri: session.uri, function: l.function };
    lenses.push({ range: toRange(l.nameRange), command: { title: 'Simulate', command: SIMULATE_COMMAND, arguments: [args], ...(l.about ? { tooltip: `Run ${l.function}() in the simulator (${l.about})` } : {}) } as CodeLens['command'] });
  }
  return lenses;
}
