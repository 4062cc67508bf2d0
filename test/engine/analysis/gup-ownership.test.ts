import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGupRefs } from '../../../engine/analysis/gup-refs';
import { gupLeak } from '../../../engine/rules/gup-leak';
import { gupReleaseMismatch } from '../../../engine/rules/gup-release-mismatch';
import type { RuleContext } from '../../../engine/rules/types';
import type { FunctionIR } from '../../../engine/ir';
import { at, bin, call, edge, file, fn, n, ret, v } from './ir-builder';

function ctx(f: FunctionIR): RuleContext {
  return { file: file(f), text: '', functionsByName: new Map([[f.name, f]]), cancelled: () => false };
}

/** pin into `pages`; `lend(pages)`; if (err) return -EIO; [unpin(pages, ret)]; return 0. */
function lending(releaseAfter: boolean): FunctionIR {
  return fn('f', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), n(4), n(0), v('pages')], v('ret')), call(2, 'lend_pages', [v('pages'), v('ret')], v('err'))],
      succs: [edge(2, v('err'), 'then', 3), edge(3, { kind: 'unary', op: '!', arg: v('err') }, 'else', 3)] },
    {},
    { stmts: [ret(4, { kind: 'unary', op: '-', arg: { kind: 'const', name: 'EIO' } })], succs: [edge(1, undefined, 'return', 4)] },
    { stmts: [...(releaseAfter ? [call(5, 'unpin_user_pages', [v('pages'), v('ret')])] : []), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
}

test('a call we cannot see borrows the pages when the caller still releases them later', () => {
  const f = lending(true);
  const leaks = gupLeak.check(f, ctx(f)).map((x) => x.range.startRow);
  assert.deepEqual(leaks, [4], 'the failure branch of the loan returns without the unpin');
});

test('a call we cannot see takes the pages when nothing after it uses them', () => {
  const f = lending(false);
  assert.deepEqual(gupLeak.check(f, ctx(f)), []);
});

test('logging takes no ownership: the pages are still leaked after dev_err()', () => {
  const f = fn('f', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), n(4), n(0), v('pages')], v('ret')), call(2, 'dev_err', [v('dev'), v('pages')]),
      ret(3, { kind: 'unary', op: '-', arg: { kind: 'const', name: 'EIO' } })], succs: [edge(1, undefined, 'return', 3)] },
    {},
  ]);
  assert.deepEqual(gupLeak.check(f, ctx(f)).map((x) => x.range.startRow), [3]);
});

test('a flag tested twice on one path gives the same answer (no mixed acquire/release path)', () => {
  const flag = bin('&', v('flags'), { kind: 'const', name: 'USER' });
  const notFlag = { kind: 'unary' as const, op: '!' as const, arg: flag };
  const f = fn('f', [
    { succs: [edge(2, flag, 'then', 1), edge(3, notFlag, 'else', 1)] },
    {},
    { stmts: [call(2, 'pin_user_pages_fast', [v('u'), n(4), n(0), v('pages')], v('ret'))], succs: [edge(4)] },
    { stmts: [call(3, 'get_user_pages_fast', [v('u'), n(4), n(0), v('pages')], v('ret'))], succs: [edge(4)] },
    { succs: [edge(5, flag, 'then', 4), edge(6, notFlag, 'else', 4)] },
    { stmts: [call(5, 'unpin_user_pages', [v('pages'), v('ret')]), ret(5, n(0))], succs: [edge(1, undefined, 'return', 5)] },
    { stmts: [call(6, 'release_pages', [v('pages'), v('ret')]), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ], { params: [{ name: 'flags', type: 'unsigned int', range: at(0) }, { name: 'pages', type: 'struct page **', range: at(0) }, { name: 'u', type: 'unsigned long', range: at(0) }] });
  assert.deepEqual(gupReleaseMismatch.check(f, ctx(f)), []);
});

test('a budget that stops the analysis is reported as an info note naming the function and the bound', () => {
  // A retry loop with many paths; a state cap of 1 per block stops it (cached, so the rule sees it).
  const f = fn('spin', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret'))], succs: [edge(2)] },
    {},
    { succs: [edge(3, bin('<', v('ret'), n(0)), 'then', 2), edge(4, bin('>=', v('ret'), n(0)), 'else', 2)] },
    { stmts: [ret(3, v('ret'))], succs: [edge(1, undefined, 'return', 3)] },
    { stmts: [call(4, 'unpin_user_pages', [v('pages'), v('ret')]), ret(5, n(0))], succs: [edge(1, undefined, 'return', 5)] },
  ]);
  const r = analyzeGupRefs(f, file(f), { maxStatesPerBlock: 0 });
  assert.match(r.exhausted ?? '', /state cap \(0 per block\)/);
  const notes = gupLeak.check(f, ctx(f)).filter((x) => x.severity === 'info');
  assert.equal(notes.length, 1);
  assert.match(notes[0].message, /spin\(\).*state cap \(0 per block\)/);
});
