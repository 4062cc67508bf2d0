import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGupRefs } from '../../../engine/analysis/gup-refs';
import { heldIsLeak, retakeIsLeak } from '../../../engine/rules/gup-leak';
import { isMismatch } from '../../../engine/rules/gup-release-mismatch';
import { isDoubleRelease } from '../../../engine/rules/gup-double-release';
import { partialReason } from '../../../engine/rules/gup-partial-release';
import { addr, assign, bin, c, call, edge, field, file, fn, idx, n, not, ret, v } from './ir-builder';

/** The verdicts the four rules draw from the analysis' facts, as `kind@row`, one per site. */
const kinds = (f: ReturnType<typeof fn>) => {
  const r = analyzeGupRefs(f, file(f));
  const out = new Set<string>();
  for (const x of r.facts) {
    if (x.kind === 'release') {
      if (isMismatch(x)) out.add(`mismatch@${x.at.startRow}`);
      if (isDoubleRelease(x)) out.add(`double@${x.at.startRow}`);
      if (partialReason(x)) out.add(`partial@${x.at.startRow}`);
    } else if (x.kind === 'held' ? heldIsLeak(x) : x.kind === 'retake' ? retakeIsLeak(x) : false) out.add(`leak@${x.at.startRow}`);
  }
  return [...out].sort();
};

test('leak: error return after a partial pin, reported at the return', () => {
  // ret = pin_user_pages_fast(u, nr, FOLL_WRITE, pages); if (ret != nr) return -EFAULT; unpin(pages, ret); return 0;
  const f = fn('f', [
    { stmts: [call(2, 'pin_user_pages_fast', [v('u'), v('nr'), c('FOLL_WRITE'), v('pages')], v('ret'))],
      succs: [edge(2, bin('!=', v('ret'), v('nr')), 'then', 3), edge(3, bin('==', v('ret'), v('nr')), 'else', 3)] },
    {},
    { stmts: [ret(4, { kind: 'unary', op: '-', arg: c('EFAULT') })], succs: [edge(1, undefined, 'return', 4)] },
    { stmts: [call(5, 'unpin_user_pages', [v('pages'), v('ret')]), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
  assert.deepEqual(kinds(f), ['leak@4']);
});

test('no leak when the short path releases the returned count under ret > 0', () => {
  const f = fn('f', [
    { stmts: [call(2, 'pin_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret'))],
      succs: [edge(2, bin('!=', v('ret'), v('nr')), 'then', 3), edge(3, bin('==', v('ret'), v('nr')), 'else', 3)] },
    {},
    { succs: [edge(4, bin('>', v('ret'), n(0)), 'then', 4), edge(5, bin('<=', v('ret'), n(0)), 'else', 4)] },
    { stmts: [call(8, 'unpin_user_pages', [v('pages'), v('nr')]), ret(9, n(0))], succs: [edge(1, undefined, 'return', 9)] },
    { stmts: [call(5, 'unpin_user_pages', [v('pages'), v('ret')])], succs: [edge(5)] },
    { stmts: [ret(6, n(-14))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
  assert.deepEqual(kinds(f), []);
});

test('mismatch: FOLL_PIN in a flags variable makes get_user_pages a pin; put_page is wrong', () => {
  const f = fn('f', [
    { stmts: [
      assign(1, v('flags'), bin('|', c('FOLL_WRITE'), c('FOLL_PIN'))),
      call(2, 'get_user_pages', [v('u'), n(1), v('flags'), addr(v('page'))], v('ret')),
    ], succs: [edge(2, bin('!=', v('ret'), n(1)), 'then', 3), edge(3, bin('==', v('ret'), n(1)), 'else', 3)] },
    {},
    { stmts: [ret(4, n(-14))], succs: [edge(1, undefined, 'return', 4)] },
    { stmts: [call(5, 'put_page', [v('page')]), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
  assert.deepEqual(kinds(f), ['mismatch@5']);
});

test('without FOLL_PIN the same code is balanced', () => {
  const f = fn('f', [
    { stmts: [call(2, 'get_user_pages', [v('u'), n(1), c('FOLL_WRITE'), addr(v('page'))], v('ret'))],
      succs: [edge(2, bin('!=', v('ret'), n(1)), 'then', 3), edge(3, bin('==', v('ret'), n(1)), 'else', 3)] },
    {},
    { stmts: [ret(4, n(-14))], succs: [edge(1, undefined, 'return', 4)] },
    { stmts: [call(5, 'put_page', [v('page')]), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
  assert.deepEqual(kinds(f), []);
});

/** for (i = 0; i < BOUND; i++) put_page(pages[i]); as blocks 2 (header), 3 (body), 4 (after). */
function loopFn(bound: string, guard?: string) {
  return fn('f', [
    { stmts: [call(1, 'get_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret'))],
      succs: [edge(5, bin('<', v('ret'), n(0)), 'then', 2), edge(6, bin('>=', v('ret'), n(0)), 'else', 2)] },
    {},
    { succs: [edge(3, bin('<', v('i'), v(bound)), 'loop', 4), edge(4, bin('>=', v('i'), v(bound)), 'loop exit', 4)] },
    { stmts: [call(5, 'put_page', [idx(v('pages'), v('i'))]), assign(4, v('i'), bin('+', v('i'), n(1)))], succs: [edge(2, undefined, 'loop back')] },
    { stmts: [ret(7, n(0))], succs: [edge(1, undefined, 'return', 7)] },
    { stmts: [ret(3, v('ret'))], succs: [edge(1, undefined, 'return', 3)] },
    { stmts: [assign(4, v('i'), n(0)), ...(guard ? [call(4, guard, [v('u')])] : [])], succs: [edge(2)] },
  ], {
    loops: [{ kind: 'for', header: 2, body: [2, 3], range: { start: 0, end: 1, startRow: 4, startCol: 0, endRow: 5, endCol: 1 },
      induction: { variable: 'i', init: n(0), cond: bin('<', v('i'), v(bound)), step: n(1) } }],
  });
}

test('release loop over the returned count is balanced; over the requested count is partial', () => {
  assert.deepEqual(kinds(loopFn('ret')), []);
  assert.deepEqual(kinds(loopFn('nr')), ['partial@5']);
});

test('an unknown callee receiving the pages silences the leak (documented policy)', () => {
  const f = fn('f', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret')), call(2, 'mystery_take', [v('pages'), v('ret')]), ret(3, n(0))],
      succs: [edge(1, undefined, 'return', 3)] },
    {},
  ]);
  assert.deepEqual(kinds(f), []);
  const g = fn('g', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret')), call(2, 'kfree', [v('pages')]), ret(3, n(0))],
      succs: [edge(1, undefined, 'return', 3)] },
    {},
  ]);
  assert.deepEqual(kinds(g), ['leak@3'], 'kfree() is in the table and takes no ownership');
});

test('storing into a struct field hands the pages off', () => {
  const f = fn('f', [
    { stmts: [call(1, 'pin_user_pages_fast', [v('u'), v('nr'), n(0), v('pages')], v('ret')), assign(2, field(v('obj'), 'pages'), v('pages')), ret(3, n(0))],
      succs: [edge(1, undefined, 'return', 3)] },
    {},
  ]);
  assert.deepEqual(kinds(f), []);
});

test('double release on one path, silent on disjoint paths', () => {
  const dbl = fn('f', [
    { stmts: [call(1, 'get_page', [v('p')]), call(2, 'put_page', [v('p')]), call(3, 'put_page', [v('p')]), ret(4, n(0))], succs: [edge(1, undefined, 'return', 4)] },
    {},
  ]);
  assert.deepEqual(kinds(dbl), ['double@3']);
  const disj = fn('f', [
    { stmts: [call(1, 'get_page', [v('p')]), call(2, 'check', [], v('$t1'))], succs: [edge(2, v('$t1'), 'then', 2), edge(3, not(v('$t1')), 'else', 2)] },
    {},
    { stmts: [call(3, 'put_page', [v('p')]), ret(4, n(-22))], succs: [edge(1, undefined, 'return', 4)] },
    { stmts: [call(5, 'put_page', [v('p')]), ret(6, n(0))], succs: [edge(1, undefined, 'return', 6)] },
  ]);
  assert.deepEqual(kinds(disj), []);
});

test('the pages argument is picked per arity (v6.5 removed vmas)', () => {
  for (const args of [
    [v('mm'), v('u'), v('nr'), n(0), v('pages'), addr(v('locked'))],
    [v('mm'), v('u'), v('nr'), n(0), v('pages'), n(0), addr(v('locked'))],
  ]) {
    const f = fn('f', [
      { stmts: [call(1, 'pin_user_pages_remote', args, v('ret')), ret(2, n(0))], succs: [edge(1, undefined, 'return', 2)] },
      {},
    ]);
    const r = analyzeGupRefs(f, file(f));
    assert.equal(r.acquisitions[0]?.arrayKey, 'pages');
    assert.equal(r.acquisitions[0]?.requestedKey, 'nr');
  }
});

test('a cancelled run stops and says so', () => {
  const f = loopFn('ret');
  const r = analyzeGupRefs({ ...f }, file(f), { cancelled: () => true, maxSteps: 1_000_000 });
  assert.ok(r.exhausted === undefined || r.exhausted === 'cancelled');
});
