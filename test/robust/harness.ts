// The engine and session set-up the robustness tests (test/robust/*.test.ts) share: one engine per
// test file, findings as comparable lines, a fresh analysis that frees its tree, and a session
// analysed before and after one edit.

import assert from 'node:assert/strict';
import { createEngine, type AnalyzeOptions, type Engine } from '../../engine/engine';
import type { Finding } from '../../engine/findings';
import { DocumentSession, type SessionResult } from '../../engine/session';

let enginePromise: Promise<Engine> | undefined;
/** One engine for the whole test file. */
export const engine = (): Promise<Engine> => (enginePromise ??= createEngine());

/** Findings as sorted lines (start row:column, rule, message): what two faces must agree on. */
export const shape = (fs: Finding[]): string[] => fs.map((f) => `${f.range.startRow}:${f.range.startCol} ${f.rule} ${f.message}`).sort();

/** A fresh analysis of `text` (its tree freed). */
export function analyzeFresh(e: Engine, text: string, opts: AnalyzeOptions): ReturnType<Engine['analyze']> {
  const r = e.analyze(text, opts);
  r.tree?.delete();
  return r;
}

/** A session on `path` (e.g. '/r.c'), analysed once, then disposed. */
export async function sessionFindings(e: Engine, text: string, path = '/r.c'): Promise<Finding[]> {
  const s = new DocumentSession(e, `file://${path}`, path, text);
  try {
    const r = await s.analyzeAsync();
    assert.ok(r, 'the session finished');
    return r.findings;
  } finally {
    s.dispose();
  }
}

/**
 * A session on `path` opened with `before` and analysed (`first`), then edited to `after` and
 * analysed again (`got`, with the session's stats of that analysis); the session is disposed.
 */
export async function afterEdit(e: Engine, path: string, before: string, after: string): Promise<{ first: SessionResult; got: SessionResult; stats: { relowered: number; freshChecks: number } }> {
  const s = new DocumentSession(e, `file://${path}`, path, before);
  try {
    const first = await s.analyzeAsync();
    assert.ok(first, 'the session finished before the edit');
    s.applyChange({ text: after });
    const got = await s.analyzeAsync();
    assert.ok(got, 'the session finished after the edit');
    return { first, got, stats: { relowered: s.stats.relowered, freshChecks: s.stats.freshChecks } };
  } finally {
    s.dispose();
  }
}
