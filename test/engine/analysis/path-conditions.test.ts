// LoopPathFacts (engine/analysis/path-conditions.ts) on small functions through the real front
// end: which facts a switch edge and a counting loop's back edge give, and when they give none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { exprKey } from '../../../engine/analysis/expr';
import { applyFacts, counterKey, LoopPathFacts, nullTestOf } from '../../../engine/analysis/path-conditions';
import type { Expr, FunctionIR } from '../../../engine/ir';

async function lower(src: string): Promise<FunctionIR> {
  const ir = lowerC(await loadCParser(), src);
  return ir.functions[0];
}

/** A stand-in for the interpreter's normalization: every comparison is its own key. */
const plainCond = (e: Expr): { key: string; truth: boolean } | undefined => {
  let x = e;
  let truth = true;
  while (x.kind === 'unary' && x.op === '!') { x = x.arg; truth = !truth; }
  return x.kind === 'binary' || x.kind === 'var' ? { key: exprKey(x), truth } : undefined;
};

const facts = (fn: FunctionIR) => new LoopPathFacts(fn, new Set(), plainCond, () => false);

test('a switch in a loop: each case says its value and not the others; default says none', async () => {
  const fn = await lower(`int f(int mode, int n) {
    int i, r = 0;
    for (i = 0; i < n; i++) {
      switch (mode) {
      case 1: r += 1; break;
      case 2: r += 2; break;
      default: return -1;
      }
    }
    return r;
  }`);
  const lf = facts(fn);
  const dispatch = fn.blocks.find((b) => b.succs.some((e) => e.label === 'default'))!;
  const byLabel = (l: string) => lf.switchFacts(dispatch.succs.find((e) => e.label === l)!);
  assert.deepEqual(byLabel('case 1'), [{ key: 'mode == 1', truth: true }, { key: 'mode == 2', truth: false }]);
  assert.deepEqual(byLabel('default'), [{ key: 'mode == 1', truth: false }, { key: 'mode == 2', truth: false }]);
  // The next round, on a path that took case 1: the default contradicts it.
  const conds: Record<string, boolean> = {};
  assert.equal(applyFacts(conds, byLabel('case 1')!), true);
  assert.equal(applyFacts({ ...conds }, byLabel('default')!), false);
  assert.equal(applyFacts({ ...conds }, byLabel('case 2')!), false);
  assert.equal(applyFacts({ ...conds }, byLabel('case 1')!), true);
});

test('a switch outside any loop whose tests are not repeated records nothing', async () => {
  const fn = await lower(`int f(int mode) {
    switch (mode) {
    case 1: return 1;
    default: return 0;
    }
  }`);
  const lf = facts(fn);
  for (const b of fn.blocks) for (const e of b.succs) assert.equal(lf.switchFacts(e), undefined);
});

test('a counter incremented on every round is at least 1 after the back edge', async () => {
  const fn = await lower(`int f(int n) {
    int i, r = 0;
    for (i = 0; i < n; i++) {
      if (i == 0)
        r = g(r);
    }
    return r;
  }`);
  const lf = facts(fn);
  const loop = fn.loops[0];
  const back = fn.blocks.flatMap((b) => b.succs.filter((e) => e.to === loop.header && loop.body.includes(b.id)));
  assert.ok(back.length > 0);
  for (const e of back) assert.deepEqual(lf.counterFacts(e), [{ key: counterKey('i'), truth: true }]);
  const conds = { [counterKey('i')]: true };
  const v: Expr = { kind: 'var', name: 'i' };
  const zero: Expr = { kind: 'int', value: 0 };
  assert.equal(lf.counterTruth({ kind: 'binary', op: '==', left: v, right: zero }, conds), false);
  assert.equal(lf.counterTruth({ kind: 'unary', op: '!', arg: v }, conds), false);
  assert.equal(lf.counterTruth({ kind: 'binary', op: '>', left: v, right: zero }, conds), true);
  assert.equal(lf.counterTruth({ kind: 'binary', op: '==', left: v, right: { kind: 'int', value: 3 } }, conds), undefined);
  assert.equal(lf.counterTruth({ kind: 'binary', op: '==', left: v, right: zero }, {}), undefined);
  // Leaving the loop forgets the fact.
  const exits = fn.blocks.flatMap((b) => loop.body.includes(b.id) ? b.succs.filter((e) => !loop.body.includes(e.to)) : []);
  assert.ok(exits.some((e) => lf.counterExit(e)?.includes(counterKey('i'))));
});

test('no counter fact when a round can go back without the increment, or the counter is reset', async () => {
  const skip = await lower(`int f(int n) {
    int i = 0, k = 0, r = 0;
    while (k < n) {
      k++;
      if (h(k))
        continue;
      if (i == 0)
        r = g(r);
      i++;
    }
    return r;
  }`);
  const lf = facts(skip);
  const has = (e: { label?: string }) => (lf.counterFacts(e as never) ?? []).some((f) => f.key === counterKey('i'));
  const edges = skip.blocks.flatMap((b) => b.succs);
  // The `continue` goes back without `i++`; the round that ends normally has counted.
  const cont = edges.filter((e) => e.label === 'continue');
  assert.ok(cont.length > 0);
  for (const e of cont) assert.equal(has(e), false);
  assert.ok(edges.some((e) => e.label !== 'continue' && has(e)));
  const reset = await lower(`int f(int n) {
    int i = 0, r = 0;
    while (r < n) {
      if (i == 0)
        r = g(r);
      i++;
      if (h(r))
        i = -1;
    }
    return r;
  }`);
  const lr = facts(reset);
  for (const b of reset.blocks) for (const e of b.succs) assert.equal(lr.counterFacts(e), undefined);
});

test('nullTestOf: NULL and non-NULL tests of a local', () => {
  const p: Expr = { kind: 'var', name: 'p' };
  assert.deepEqual(nullTestOf({ kind: 'unary', op: '!', arg: p }), { name: 'p', isNull: true });
  assert.deepEqual(nullTestOf(p), { name: 'p', isNull: false });
  assert.deepEqual(nullTestOf({ kind: 'binary', op: '==', left: p, right: { kind: 'const', name: 'NULL' } }), { name: 'p', isNull: true });
  assert.deepEqual(nullTestOf({ kind: 'binary', op: '!=', left: p, right: { kind: 'int', value: 0 } }), { name: 'p', isNull: false });
  assert.equal(nullTestOf({ kind: 'binary', op: '<', left: p, right: { kind: 'int', value: 0 } }), undefined);
});

test('a counter whose address is taken is no counter; an unsigned one needs no constant start', async () => {
  const taken = await lower(`int f(int n, int i) {
    int r = 0;
    for (; i < n; i++) {
      if (i == 0)
        r = g(r);
      bump(&i);
    }
    return r;
  }`);
  const lt = facts(taken);
  for (const b of taken.blocks) for (const e of b.succs) assert.equal(lt.counterFacts(e), undefined);
  const unsig = await lower(`int f(int n, unsigned int i) {
    int r = 0;
    while (i < n) {
      if (!i)
        r = g(r);
      i += 2;
    }
    return r;
  }`);
  const lu = facts(unsig);
  assert.ok(unsig.blocks.some((b) => b.succs.some((e) => (lu.counterFacts(e) ?? []).some((f) => f.key === counterKey('i')))));
});
