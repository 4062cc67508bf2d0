// Unit tests of the per-path value facts (engine/analysis/gup/value-facts.ts) and of the
// hand-back arithmetic (engine/analysis/gup/hand-back.ts) that the GUP analysis uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallStmt, Expr, FunctionIR } from '../../../engine/ir';
import { ValueFactsContext, vfAssign, vfCall, vfHavoc, vfTruth, type ValueFacts } from '../../../engine/analysis/gup/value-facts';
import { atNothing, negativeNonErrno } from '../../../engine/analysis/gup/hand-back';
import { exprKey } from '../../../engine/analysis/expr';
import { at, call, edge, file, fn, n, v } from './ir-builder';

const field = (base: Expr, name: string, arrow = true): Expr => ({ kind: 'field', base, name, arrow });
const not = (e: Expr): Expr => ({ kind: 'unary', op: '!', arg: e });
const addr = (e: Expr): Expr => ({ kind: 'unary', op: '&', arg: e });

/** A function whose conditions test `rq->plist`, `pg` and `$e` (IS_ERR(res)). */
function tester(): { f: FunctionIR; c: ValueFactsContext } {
  const f = fn('t', [
    { stmts: [call(1, 'IS_ERR', [v('res')], v('$e'))], succs: [edge(2, field(v('rq'), 'plist'), 'then', 1), edge(2, v('pg'), 'else', 2)] },
    {},
    { succs: [edge(1, v('$e'), 'then', 2)] },
  ]);
  return { f, c: new ValueFactsContext(f, file(f)) };
}

const c1 = (callee: string, args: Expr[], result?: Expr): CallStmt => call(1, callee, args, result) as CallStmt;

test('a field of a kzalloc()ed object is NULL until this path writes it', () => {
  const { c } = tester();
  const vf: ValueFacts = {};
  vfCall(vf, c, c1('kzalloc', [n(64), n(0)], v('rq')));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), false);
  assert.equal(vfTruth(vf, not(field(v('rq'), 'plist'))), true);
  vfAssign(vf, c, field(v('rq'), 'plist'), v('pages'));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined, 'written: unknown again');
});

test('plain kmalloc() says nothing; kmalloc(..., __GFP_ZERO) zeroes', () => {
  const { c } = tester();
  const vf: ValueFacts = {};
  vfCall(vf, c, c1('kmalloc', [n(64), { kind: 'const', name: 'GFP_KERNEL' }], v('rq')));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined);
  vfCall(vf, c, c1('kmalloc', [n(64), { kind: 'binary', op: '|', left: { kind: 'const', name: 'GFP_KERNEL' }, right: { kind: 'const', name: '__GFP_ZERO' } }], v('rq')));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), false);
});

test('a zeroed object given to a call, copied, or its field address given away is no longer known', () => {
  const { c } = tester();
  const fresh = (): ValueFacts => {
    const vf: ValueFacts = {};
    vfCall(vf, c, c1('kzalloc', [n(64), n(0)], v('rq')));
    return vf;
  };
  let vf = fresh();
  vfCall(vf, c, c1('rq_submit', [v('rq')]));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined, 'the callee may write any field');
  vf = fresh();
  vfAssign(vf, c, field(v('dev'), 'cur'), v('rq'));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined, 'a copy elsewhere may be written through');
  vf = fresh();
  vfCall(vf, c, c1('fill_list', [addr(field(v('rq'), 'plist'))]));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined, 'its address went to a callee');
  vf = fresh();
  vfCall(vf, c, c1('kref_init', [addr(field(v('rq'), 'ref'))]));
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), false, 'another field given away says nothing about this one');
  vf = fresh();
  vfHavoc(vf, 'rq->ops->go(rq)');
  assert.equal(vfTruth(vf, field(v('rq'), 'plist')), undefined);
});

test('a dereferenced page pointer is non-NULL until it is written or its address is given away', () => {
  const { c } = tester();
  const vf: ValueFacts = {};
  vfCall(vf, c, c1('folio_get', [v('pg')]));
  assert.equal(vfTruth(vf, not(v('pg'))), false);
  vfCall(vf, c, c1('swap_it', [addr(v('pg'))]));
  assert.equal(vfTruth(vf, not(v('pg'))), undefined);
});

test('IS_ERR() of ERR_PTR() or of a helper that always returns ERR_PTR() is true', () => {
  const helper = fn('always_err', [
    { succs: [edge(2, v('x'), 'then', 1), edge(3, not(v('x')), 'else', 1)] },
    {},
    { stmts: [call(3, 'ERR_PTR', [n(-12)], v('$a')), { kind: 'return', range: at(3), value: v('$a') }], succs: [edge(1, undefined, 'return', 3)] },
    { stmts: [call(5, 'ERR_PTR', [n(-11)], v('$b')), { kind: 'return', range: at(5), value: v('$b') }], succs: [edge(1, undefined, 'return', 5)] },
  ]);
  const { f } = tester();
  const ir = file(f);
  ir.functions.push(helper);
  const c = new ValueFactsContext(f, ir);
  const vf: ValueFacts = {};
  vfCall(vf, c, c1('always_err', [v('obj')], v('res')));
  vfCall(vf, c, c1('IS_ERR', [v('res')], v('$e')));
  assert.equal(vfTruth(vf, v('$e')), true);
  assert.equal(vfTruth(vf, not(v('$e'))), false);
  const other: ValueFacts = {};
  vfCall(other, c, c1('maybe_err', [v('obj')], v('res')));
  vfCall(other, c, c1('IS_ERR', [v('res')], v('$e')));
  assert.equal(vfTruth(other, v('$e')), undefined, 'a helper the file does not define says nothing');
});

test('the value handed back with nothing taken', () => {
  const res = v('res');
  const off: Expr = { kind: 'unary', op: '*', arg: v('start') };
  const bytes: Expr = { kind: 'binary', op: '-', left: { kind: 'binary', op: '*', left: res, right: { kind: 'const', name: 'PAGE_SIZE' } }, right: off };
  const z = atNothing(bytes, ['res']);
  assert.equal(exprKey(z), '-*start');
  assert.equal(negativeNonErrno(z), true);
  const sum = atNothing({ kind: 'binary', op: '+', left: res, right: v('first') }, ['res']);
  assert.equal(exprKey(sum), 'first');
  assert.equal(negativeNonErrno(sum), false);
  assert.equal(negativeNonErrno({ kind: 'unary', op: '-', arg: { kind: 'const', name: 'EFAULT' } }), false, '-EFAULT is an errno');
});
