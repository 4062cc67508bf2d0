// The parser loads from the built wasm without network, caches the language, and reports
// JavaScript string (UTF-16) offsets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edit } from 'web-tree-sitter';
import { loadCParser } from '../../../engine/syntax/parser';

test('loads, parses, and a second load reuses the language', async () => {
  const t0 = performance.now();
  const a = await loadCParser();
  const first = performance.now() - t0;
  const t1 = performance.now();
  const b = await loadCParser();
  const second = performance.now() - t1;
  assert.equal(a.language, b.language);
  console.log(`loadCParser: first ${first.toFixed(1)} ms, second ${second.toFixed(2)} ms`);
  const tree = a.parse('int foo(void) { return 0; }');
  try {
    assert.equal(tree.rootNode.type, 'translation_unit');
    assert.equal(tree.rootNode.child(0)?.type, 'function_definition');
    assert.equal(tree.rootNode.hasError, false);
  } finally {
    tree.delete();
  }
});

test('offsets are UTF-16 string indices', async () => {
  const p = await loadCParser();
  const text = '/* é😀 naïve */ int foo_x;';
  const tree = p.parse(text);
  try {
    const decl = tree.rootNode.namedChildren.find((n) => n?.type === 'declaration');
    assert.ok(decl);
    assert.equal(decl.startIndex, text.indexOf('int'));
    assert.equal(decl.startPosition.column, text.indexOf('int'));
  } finally {
    tree.delete();
  }
});

test('incremental reparse with an old tree', async () => {
  const p = await loadCParser();
  const v1 = 'int foo(void) { return 0; }';
  const t1 = p.parse(v1);
  const v2 = 'int foo(void) { return 1; }';
  t1.edit(new Edit({
    startIndex: 23, oldEndIndex: 24, newEndIndex: 24,
    startPosition: { row: 0, column: 23 }, oldEndPosition: { row: 0, column: 24 }, newEndPosition: { row: 0, column: 24 },
  }));
  const t2 = p.parse(v2, t1);
  try {
    assert.equal(t2.rootNode.text, v2);
  } finally {
    t1.delete();
    t2.delete();
  }
});

test('an explicit wasmDir that does not exist still falls back to the built copies', async () => {
  const p = await loadCParser({ wasmDir: '/nonexistent/faultline' });
  const tree = p.parse('void f(void) {}');
  assert.equal(tree.rootNode.type, 'translation_unit');
  tree.delete();
});
