// Every node of a tree-sitter tree, one line each, for comparing two parses node for node.

import type { Tree } from '../../engine/syntax/parser';

/**
 * Every node of `tree` in order, with everything the lowering can read of it: depth, type,
 * field, extent, start and end positions, MISSING / ERROR.
 */
export function treeNodes(tree: Tree): string[] {
  const out: string[] = [];
  const c = tree.walk();
  let depth = 0;
  try {
    for (;;) {
      const n = c.currentNode;
      out.push(`${depth} ${c.nodeType} ${c.currentFieldName} ${c.startIndex}-${c.endIndex} ${n.startPosition.row}:${n.startPosition.column}-${n.endPosition.row}:${n.endPosition.column} ${n.isMissing ? 'missing' : ''}${n.isError ? 'error' : ''}`);
      if (c.gotoFirstChild()) { depth++; continue; }
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent()) return out;
        depth--;
      }
    }
  } finally {
    c.delete();
  }
}
