// Regressions of "the CLI and the server give the same findings" (robustness issue, item 5) in
// the batch path's relevance filters (engine/syntax/blank-irrelevant.ts on the text,
// engine/lower/relevance.ts on the tree): a function the filters' graph of top-level items did
// not know (nested in another by a missing `}`, or made by a macro) took a glock for its callers,
// and a caller that names no API itself was left out by the CLI only (fuzz seed 7 #9758).
// Generated reproducers; the assertions count findings and names, never time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchFallbacks } from '../../engine/engine';
import type { Finding } from '../../engine/findings';
import { blankIrrelevant } from '../../engine/syntax/blank-irrelevant';
import { blankKernelMacros } from '../../engine/syntax/macros';
import { nestedDefinitionNames, relevanceOutcome, unaccountedFunction } from '../../engine/syntax/relevance-graph';
import { relevantApiNames } from '../../engine/rules/relevance';
import { macroMadeLockHelper, nestedLockHelper } from './reproducers';
import { macroDefinitionName, macroDefinitionNamesOfHead } from '../../engine/syntax/macro-definition';
import { engine, shape } from './harness';

function faultsUnderLock(fs: Finding[]): number {
  return fs.filter((f) => f.rule === 'fault-under-lock').length;
}

test('a helper nested in a function by a missing `}`: the batch path finds what the whole text finds', async () => {
  const e = await engine();
  const text = nestedLockHelper(3);
  const whole = e.analyze(text, { path: 'n.c' });
  const before = batchFallbacks.count;
  const batch = e.analyze(text, { path: 'n.c', skipIrrelevant: true });
  assert.equal(batchFallbacks.count, before, 'the scan connected the callers itself');
  assert.equal(faultsUnderLock(whole.findings), 3, JSON.stringify(shape(whole.findings)));
  assert.equal(faultsUnderLock(batch.findings), 3, JSON.stringify(shape(batch.findings)));
  assert.deepEqual(shape(batch.findings), shape(whole.findings));
  // Nothing was dropped that mattered: every caller and its copy helper was lowered.
  assert.equal(batch.file?.functions.length, whole.file?.functions.length);
});

test('a helper nested in a function by a missing `}`: the scan knows the item defines it (no second parse needed)', () => {
  const text = blankKernelMacros(nestedLockHelper(2));
  assert.deepEqual(nestedDefinitionNames(text, 0, text.length), ['demo_prep_0', 'demo_take_0', 'demo_emit_0', 'demo_dump_0', 'demo_prep_1', 'demo_take_1', 'demo_emit_1', 'demo_dump_1']);
  const b = blankIrrelevant(text, relevantApiNames());
  // The callers (demo_dump_*) name no API: they are kept only through the nested helper's name.
  assert.equal(b.text, text, 'nothing of it may be blanked');
});

test('statements and loop macros are not taken for nested definitions', () => {
  const body = 'int f(int a)\n{\n\tif (a) {\n\t\ta++;\n\t} else if (a > 2) {\n\t}\n\tlist_for_each_entry(p, h, m) {\n\t}\n\twhile (x(a)) {\n\t}\n\treturn a;\n}\n';
  assert.deepEqual(nestedDefinitionNames(body, body.indexOf('{') + 1, body.length), undefined);
});

test('a helper made by a macro: the batch path finds what the whole text finds', async () => {
  const e = await engine();
  const text = macroMadeLockHelper(3);
  const whole = e.analyze(text, { path: 'm.c' });
  const before = batchFallbacks.count;
  const batch = e.analyze(text, { path: 'm.c', skipIrrelevant: true });
  // Both filters name the macro-made function as the lowering does (DEMO_LOCKER(demo_mtake_0,
  // ...) defines demo_mtake_0) and keep its callers: no whole-text analysis is needed.
  assert.equal(batchFallbacks.count, before, 'the filters named the macro-made helper themselves');
  assert.equal(faultsUnderLock(whole.findings), 3, JSON.stringify(shape(whole.findings)));
  assert.equal(faultsUnderLock(batch.findings), 3, JSON.stringify(shape(batch.findings)));
  assert.deepEqual(shape(batch.findings), shape(whole.findings));
});

test('a lowered function the filters could not name sends the file to the whole text; one named after a keyword does not', () => {
  // Two items: a helper the graph knows, and a left-out caller that names `hidden` and `if`.
  const items = [
    { start: 0, end: 10, name: 'known', ids: new Set(['x']), relevant: true },
    { start: 10, end: 20, name: 'caller', ids: new Set(['hidden', 'if']), relevant: false },
  ];
  const outcome = relevanceOutcome(items, (i) => !items[i].relevant);
  const fn = (name: string, start: number) => ({ name, range: { start, end: start + 5 } });
  const text = ' '.repeat(20);
  // `hidden` lies in no item of its name and a left-out item names it.
  assert.equal(unaccountedFunction(outcome, [fn('known', 0), fn('hidden', 3)], text), 'hidden');
  // `if` (error recovery made a function of `else if (x) {`): no call can name it.
  assert.equal(unaccountedFunction(outcome, [fn('known', 0), fn('if', 3)], text), undefined);
});

test('macro-made definitions: the filters give the lowering\'s name', () => {
  assert.equal(macroDefinitionName('SYSCALL_DEFINE3', 'mprotect'), 'sys_mprotect');
  assert.equal(macroDefinitionName('COMPAT_SYSCALL_DEFINE2', 'ioctl'), 'compat_sys_ioctl');
  assert.equal(macroDefinitionName('BPF_CALL_2', 'bpf_demo'), 'bpf_demo');
  assert.equal(macroDefinitionName('demo_helper', 'struct demo_ctx *c'), 'demo_helper');
  assert.deepEqual(macroDefinitionNamesOfHead('SYSCALL_DEFINE2(umount, char *, name, int, flags)'), ['sys_umount', 'umount']);
  assert.deepEqual(macroDefinitionNamesOfHead('\nDEMO_LOCKER(demo_take, struct demo_ctx *c)\n'), ['demo_take']);
  assert.deepEqual(macroDefinitionNamesOfHead('static int f(int a)'), []);
});
