// In-process tests of the server's pieces that need no engine: document text edits and
// position maths in the session, settings parsing, identifier lookup, the code-lens summary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentSession, documentKind } from '../../engine/session';
import type { Engine } from '../../engine/engine';
import { parseSettings, mergeSettings } from '../../server/settings';
import { toCommandResult } from '../../server/simulate';
import { identifierAt } from '../../server/features';
import { docsUrl, rangesTouch } from '../../server/convert';
import { isInteresting, lensTitle, summarizeFunction } from '../../engine/explain/function-summary';
import type { Block, CallStmt, Expr, FunctionIR, SourceRange, Stmt } from '../../engine/ir';
import { e2eSkip } from '../e2e/helpers/skip';
import { rng } from '../../bench/generate-corpus';

const noEngine = {} as Engine;

function session(text: string): DocumentSession {
  return new DocumentSession(noEngine, 'file:///x.c', '/x.c', text);
}


test('session applies ranged and full edits like LSP says (UTF-16, CRLF, clamping)', () => {
  const s = session('ab\r\ncd\nef😀g\n');
  assert.deepEqual(s.positionAt(s.text.indexOf('c')), { line: 1, character: 0 });
  assert.equal(s.offsetAt({ line: 0, character: 99 }), 2, 'clamped before the CRLF');
  assert.equal(s.offsetAt({ line: 99, character: 0 }), s.text.length);
  // The emoji is two UTF-16 code units: `g` sits at character 4 of line 2.
  assert.equal(s.text[s.offsetAt({ line: 2, character: 4 })], 'g');
  s.applyChange({ range: { start: { line: 1, character: 1 }, end: { line: 2, character: 2 } }, text: 'X\nY' });
  assert.equal(s.text, 'ab\r\ncX\nY😀g\n');
  s.applyChange({ text: 'fresh' });
  assert.equal(s.text, 'fresh');
  assert.equal(s.edits, 2);
});

test('session text equals a naive model under random edits', () => {
  const r = rng(42);
  const alphabet = ['a', 'b', '\n', '\r\n', '\t', 'é', '😀', '{', '}', ' '];
  let model = 'int x;\n{\n}\n';
  const s = session(model);
  const lines = () => model.split(/\r\n|\n|\r/);
  for (let i = 0; i < 500; i++) {
    const ls = lines();
    const pos = () => {
      const line = Math.floor(r() * (ls.length + 1));
      const len = line < ls.length ? ls[line].length : 0;
      return { line, character: Math.floor(r() * (len + 2)) };
    };
    let a = pos();
    let b = pos();
    if (a.line > b.line || (a.line === b.line && a.character > b.character)) [a, b] = [b, a];
    let ins = '';
    for (let k = Math.floor(r() * 4); k > 0; k--) ins += alphabet[Math.floor(r() * alphabet.length)];
    // Model: the same LSP rules, written independently over a line array.
    const off = (p: { line: number; character: number }) => {
      let o = 0;
      const parts = model.split(/(\r\n|\n|\r)/);
      for (let l = 0; l < p.line && 2 * l < parts.length; l++) o += parts[2 * l].length + (parts[2 * l + 1]?.length ?? 0);
      if (p.line * 2 >= parts.length) return model.length;
      return o + Math.min(p.character, parts[2 * p.line].length);
    };
    const oa = off(a);
    const ob = Math.max(oa, off(b));
    model = model.slice(0, oa) + ins + model.slice(ob);
    s.applyChange({ range: { start: a, end: b }, text: ins });
    assert.equal(s.text, model, `edit ${i}`);
  }
});

test('document kind from path and language id', () => {
  assert.equal(documentKind('/a/b.c'), 'c');
  assert.equal(documentKind('/a/b.h', 'cpp'), 'c');
  assert.equal(documentKind('/a/0001-x.patch'), 'patch');
  assert.equal(documentKind('/a/series.mbox'), 'patch');
  assert.equal(documentKind('/a/untitled', 'diff'), 'patch');
});

test('settings accept nested, flat and dotted shapes; later sources win', () => {
  assert.deepEqual(parseSettings({ faultline: { rules: ['gup-leak'], kernel: 'v6.1' } }), { rules: ['gup-leak'], kernel: 'v6.1' });
  assert.deepEqual(parseSettings({ 'faultline.rules': 'gup-leak, gup-double-release' }), { rules: ['gup-leak', 'gup-double-release'] });
  assert.deepEqual(parseSettings({ rules: [], kernel: ' ' }), {});
  assert.deepEqual(parseSettings(null), {});
  assert.deepEqual(parseSettings({ rules: [1, 'x'], debounceMs: 1e9 }), { rules: ['x'], debounceMs: 5000 });
  assert.deepEqual(mergeSettings({ rules: ['a'], kernel: 'v5.10' }, { kernel: 'v6.1' }), { rules: ['a'], kernel: 'v6.1' });
});

test('identifierAt finds the C identifier around the cursor', () => {
  const t = '\tret = pin_user_pages_fast(a, 1);';
  assert.deepEqual(identifierAt(t, t.indexOf('pin') + 5), { name: 'pin_user_pages_fast', start: 7, end: 26 });
  assert.equal(identifierAt(t, t.indexOf('(') + 1)?.name, 'a');
  assert.equal(identifierAt(t, t.indexOf('1')), undefined, 'a number is not an identifier');
  assert.equal(identifierAt('  ', 1), undefined);
});

test('docs links: configured base URL or a file URI inside the install', () => {
  assert.equal(docsUrl('gup-leak', 'docs/rules/gup-leak.md', 'https://x.org/rules/'), 'https://x.org/rules/gup-leak.md');
  assert.match(docsUrl('gup-leak', 'docs/rules/gup-leak.md', undefined), /^file:\/\/.*\/docs\/rules\/gup-leak\.md$/);
});

test('rangesTouch: overlapping, touching and disjoint', () => {
  const r: SourceRange = { start: 0, end: 0, startRow: 3, startCol: 4, endRow: 3, endCol: 10 };
  assert.ok(rangesTouch(r, { start: { line: 3, character: 10 }, end: { line: 3, character: 10 } }));
  assert.ok(rangesTouch(r, { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } }));
  assert.ok(!rangesTouch(r, { start: { line: 3, character: 11 }, end: { line: 4, character: 0 } }));
  assert.ok(!rangesTouch(r, { start: { line: 2, character: 0 }, end: { line: 3, character: 3 } }));
});

// --- code-lens summaries over hand-built IR (names the API table knows; it decides what they do)

const R: SourceRange = { start: 0, end: 0, startRow: 0, startCol: 0, endRow: 0, endCol: 0 };
function call(callee: string, args: Expr[] = []): CallStmt {
  return { kind: 'call', callee, args, argRanges: args.map(() => R), calleeRange: R, range: R };
}
function fn(blocks: { stmts: Stmt[]; succs: number[] }[], loops: FunctionIR['loops'] = []): FunctionIR {
  const bs: Block[] = blocks.map((b, id) => ({ id, stmts: b.stmts, succs: b.succs.map((to) => ({ to })) }));
  return {
    name: 'f', range: R, nameRange: R, returnType: 'int', params: [], blocks: bs, entry: 0, exit: bs.length - 1,
    loops, locals: {}, storage: [], degraded: [],
  };
}
const v = (name: string): Expr => ({ kind: 'var', name });

test('summary counts GUP acquisitions through the API table', () => {
  const f = fn([
    { stmts: [call('pin_user_pages_fast', [v('a'), v('n'), v('f'), v('pages')]), call('get_user_pages_fast', [v('a'), v('n'), v('f'), v('p2')])], succs: [1] },
    { stmts: [call('unpin_user_pages', [v('pages'), v('n')]), call('demo_not_an_api')], succs: [] },
  ]);
  const s = summarizeFunction(f);
  assert.equal(s.gupAcquisitions.length, 2);
  assert.ok(isInteresting(s));
  assert.equal(lensTitle(s, 1), 'Faultline: 2 GUP acquisitions · 1 finding');
  assert.equal(lensTitle(s, 0), 'Faultline: 2 GUP acquisitions · no findings');
  const plain = summarizeFunction(fn([{ stmts: [call('demo_not_an_api')], succs: [] }]));
  assert.ok(!isInteresting(plain));
});

test('e2e skip policy: never in CI, only on request outside it', () => {
  assert.equal(e2eSkip({ CI: 'true', FAULTLINE_SKIP_E2E: '1' }), false, 'CI never skips');
  assert.equal(e2eSkip({}), false, 'outside CI the tests run by default');
  assert.equal(e2eSkip({ FAULTLINE_SKIP_E2E: '0' }), false);
  assert.match(String(e2eSkip({ FAULTLINE_SKIP_E2E: '1' })), /FAULTLINE_SKIP_E2E=1/);
});

test('toCommandResult: engine ranges become LSP ranges, the trace links to the uri, cancelled is read from the bound', () => {
  const base = {
    verdict: 'livelock' as const, arch: 'arm64-mte', kernel: 'v6.8', function: 'demo_fn', note: 'repeats', decisive: 1, statesExplored: 12,
    interleavings: 1, naive: 1, profiles: [{ arch: 'arm64-mte', verdict: 'livelock' as const }], loops: [{ line: 3, label: 'the while loop at line 3' }],
    roles: { user: ['ubuf'], len: ['len'] },
    steps: [
      { thread: 0, operation: 'x = 0' },
      { thread: 0, operation: 'fault_in_writeable(ubuf, len)', range: { start: 40, end: 60, startRow: 4, startCol: 6, endRow: 4, endCol: 26 }, note: 'probed' },
    ],
  };
  const r = toCommandResult(base, 'file:///d/a.c', 3, 5);
  assert.deepEqual(r.steps[1].range, { start: { line: 4, character: 6 }, end: { line: 4, character: 26 } });
  assert.equal(r.steps[0].range, undefined);
  assert.equal(r.version, 3);
  assert.equal(r.currentVersion, 5);
  assert.equal(r.cancelled, false);
  assert.ok(r.trace.includes('(file:///d/a.c#L5)'), r.trace);
  assert.equal(toCommandResult({ ...base, verdict: 'inconclusive', bound: 'cancelled' }, 'file:///d/a.c', 1, 1).cancelled, true);
});
