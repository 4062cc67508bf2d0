// The batch path keeps the blanked text's tree when every syntax error lies inside a kept,
// balanced item (engine/engine.ts errorsStayInside). That rests on a claim about tree-sitter's
// error recovery: an error inside such an item does not reach past it, so the blanked neighbours
// change nothing. Checked here on real code, node for node: in every file of a set of Linux 6.1
// directories where the batch path keeps a tree with errors, each node outside the blanked items
// (type, field, start, end up to trailing blanked text, row, column, MISSING/ERROR) is the same
// as in the whole-text parse, the one the language server makes. A file that goes back to the
// whole text is reparsed from the blanked tree (tree-sitter reuses what the edits leave valid):
// there every node must be the whole-text parse's. drivers/gpu/drm/drm_vm.c and
// drivers/video/fbdev/vermilion/vermilion.c are in the set: a function with `#if` inside, once
// vouched for, parsed differently there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo';
import { findTree, realcodeSkip } from './baseline';
import { batchReparses, createEngine } from '../../engine/engine';
import { loadCParser, type Tree } from '../../engine/syntax/parser';
import { blankKernelMacros } from '../../engine/syntax/macros';
import { blankIrrelevant } from '../../engine/syntax/blank-irrelevant';
import { fileRelevance } from '../../engine/rules/rule-relevance';
import { treeNodes } from '../helpers/tree-nodes';

const tree = findTree(repoRoot());

const DIRS = ['mm', 'fs/iomap', 'fs/btrfs', 'fs/gfs2', 'fs/fuse', 'kernel/events', 'net/core', 'drivers/gpu/drm', 'drivers/video/fbdev',
  'drivers/misc', 'drivers/vhost', 'drivers/infiniband/core', 'arch/x86/kernel', 'lib'];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.isFile() && /\.[ch]$/.test(e.name) && statSync(p).size < 4 << 20) out.push(p);
  }
  return out;
}

/**
 * Every node of `tree` but the root, in order, except the subtrees that start on a blanked
 * character. A node's end is cut back to just after its last character that is neither blanked
 * nor white space (a node that runs on over blanked text ends where its own text ends), and the
 * end of an `#if` block is not compared (in the blanked tree it stops where the kept text does).
 */
function dump(t: Tree, text: string, blanked: string): string[] {
  const lastKept = new Int32Array(text.length + 1);
  lastKept[0] = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    lastKept[i + 1] = blanked.charCodeAt(i) === ch && !(ch === 32 || (ch >= 9 && ch <= 13)) ? i : lastKept[i];
  }
  const out: string[] = [];
  const c = t.walk();
  try {
    if (!c.gotoFirstChild()) return out;
    for (;;) {
      const start = c.startIndex;
      const skipped = start < text.length && blanked.charCodeAt(start) !== text.charCodeAt(start);
      if (!skipped) {
        const n = c.currentNode;
        const end = /^preproc_(if|ifdef|else|elif|elifdef)$/.test(c.nodeType) ? '?' : lastKept[Math.min(c.endIndex, text.length)] + 1;
        out.push(`${c.nodeType} ${c.currentFieldName} ${start}-${end} ${n.startPosition.row}:${n.startPosition.column}${n.isMissing ? ' missing' : ''}${n.isError ? ' error' : ''}`);
        if (c.gotoFirstChild()) continue;
      }
      for (;;) {
        if (c.gotoNextSibling()) break;
        if (!c.gotoParent() || c.nodeType === 'translation_unit') return out;
      }
    }
  } finally {
    c.delete();
  }
}

test('batch path: a kept tree with errors has the whole-text parse\'s nodes outside the blanked items, a reparsed one all of them (Linux 6.1)', { skip: realcodeSkip(process.env, tree) }, async () => {
  assert.ok(tree.path, `the Linux 6.1 tree is missing (${tree.message})`);
  const engine = await createEngine();
  const parser = await loadCParser();
  let kept = 0;
  let wholeAgain = 0;
  const differ: string[] = [];
  for (const dir of DIRS) {
    for (const file of sourceFiles(join(tree.path, dir))) {
      const original = readFileSync(file, 'utf8');
      const relevance = fileRelevance(original);
      if (!relevance.rules.length) continue;
      const text = blankKernelMacros(original);
      const b = blankIrrelevant(text, relevance.relevantApis);
      if (b.text === text) continue;
      const before = batchReparses.count;
      const res = engine.analyzeC(original, { path: file, skipIrrelevant: true });
      const batchTree = res.tree;
      // Gone back to the whole text: reparsed from the blanked tree, every node must be the
      // whole-text parse's (nothing is skipped in the comparison).
      const reparsed = batchReparses.count !== before;
      if (!batchTree || (!reparsed && !batchTree.rootNode.hasError)) { batchTree?.delete(); continue; }
      if (reparsed) wholeAgain++;
      else kept++;
      const whole = parser.parse(text);
      try {
        const a = reparsed ? treeNodes(batchTree) : dump(batchTree, text, b.text);
        const w = reparsed ? treeNodes(whole) : dump(whole, text, b.text);
        const i = a.findIndex((x, k) => x !== w[k]);
        if (i >= 0 || a.length !== w.length) differ.push(`${file.slice(tree.path.length + 1)}: node ${i}: batch ${a[i]} / whole ${w[i]}`);
      } finally {
        whole.delete();
        batchTree.delete();
      }
    }
  }
  assert.deepEqual(differ, [], 'the kept tree differs from the whole-text parse');
  assert.ok(kept >= 40, `the directories should have files whose kept tree has errors (${kept})`);
  assert.ok(wholeAgain >= 10, `the directories should have files that go back to the whole text (${wholeAgain})`);
});
