// Issue 11 (seed 7 input 13999, a size-limit input of 8 MB of repeated functions): the syntax
// mirror of the whole file (1.6 M nodes, 240 MB) was held until the lowering of the last function
// was done, on top of the IR of every function (170 MB) and the wasm tree (238 MB), and each face
// of the fuzz run peaked over 800 MB. Each top-level function's mirrored body is now dropped once
// it is lowered, so what the lowering holds at the end no longer grows with the size of the bodies;
// and each top-level item is lowered as soon as it is mirrored, so the mirror of the whole file is
// never built (8 MB: lowering peak 732 MB -> 499 MB RSS, 3.3 s -> 1.9 s CPU).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerTree } from '../../engine/lower/index';
import type { SNode } from '../../engine/lower/syntax-tree';
import { blankKernelMacros } from '../../engine/syntax/macros';
import { loadCParser } from '../../engine/syntax/parser';
import { manyFunctions } from './reproducers';

function reachable(root: SNode): number {
  let n = 0;
  const stack = [root];
  while (stack.length) {
    const x = stack.pop()!;
    n++;
    for (const c of x.children) stack.push(c);
  }
  return n;
}

test('the mirror of a lowered function is released during the walk (nodes held after it: about one per function)', async () => {
  const parser = await loadCParser();
  const functions = 400;
  const text = blankKernelMacros(manyFunctions(functions, 7));
  const tree = parser.parse(text, null, {});
  try {
    let held = -1;
    const file = lowerTree(tree, text, { afterWalk: (root) => { held = reachable(root); } });
    assert.equal(file.functions.length, functions);
    // The root and one function_definition node per function; before the fix every body node
    // (about 30 per small function, 60 per pinning one) was still reachable.
    assert.ok(held >= 0, 'afterWalk was called');
    assert.ok(held <= functions + 1, `nodes still held after the walk: ${held} for ${functions} functions`);
  } finally {
    tree.delete();
  }
});

test('each top-level item is lowered as soon as it is mirrored: the mirror holds one unlowered item at a time', async () => {
  const parser = await loadCParser();
  const functions = 400;
  const text = blankKernelMacros(manyFunctions(functions, 7));
  const tree = parser.parse(text, null, {});
  try {
    let calls = 0;
    let mostHeld = 0;
    let mostItems = 0;
    const file = lowerTree(tree, text, {
      afterItems: (root) => {
        calls++;
        mostItems = Math.max(mostItems, root.children.length);
        mostHeld = Math.max(mostHeld, reachable(root));
      },
    });
    assert.equal(file.functions.length, functions);
    // Before, the whole file's mirror (every item, ~40 nodes each) was built first, then lowered.
    assert.ok(calls >= functions - 2, `lowered in ${calls} steps`);
    assert.ok(mostItems <= 1, `top-level items still held after a step: ${mostItems}`);
    // The root and the one item not yet lowered (the largest function here is about 60 nodes),
    // whatever the number of functions; the old whole-file mirror held ~40 nodes per function.
    assert.ok(mostHeld <= 100, `nodes still held after a step: ${mostHeld}`);
  } finally {
    tree.delete();
  }
});
