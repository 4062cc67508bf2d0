// A plain-JS mirror of the tree-sitter tree, built in one cursor walk.
//
// Every property read on a web-tree-sitter Node crosses into wasm; a TreeCursor walk that
// reads type id, field id and the two offsets once per node is the cheapest way to see the
// whole tree (measured: roughly 0.6 µs per node, against 1.2-1.6 µs for `node.children`).
// The lowering then works on these small objects with no further wasm calls. The walk is
// iterative, so a 3000-deep nesting cannot overflow the JS stack here; the recursive lowering
// enforces its own depth limit.

import type { SourceRange } from '../ir';
import type { Tree } from '../syntax/parser';

export interface SNode {
  type: string;
  /** Field name under the parent (`condition`, `body`...), or null. */
  field: string | null;
  named: boolean;
  start: number;
  end: number;
  children: SNode[];
  /** Zero-width node inserted by error recovery (`MISSING ";"`). */
  missing?: boolean;
}

export interface SyntaxProblem {
  node: SNode;
  message: string;
  /** Set by the lowering when it understood the construct after all (a loop macro's missing `;`). */
  accepted?: boolean;
}

export interface MirrorResult {
  root: SNode;
  problems: SyntaxProblem[];
}

export function mirrorTree(tree: Tree, cancelled?: () => boolean): MirrorResult {
  const language = tree.language;
  const types = language.types;
  const fields = language.fields;
  const namedCache = new Map<number, boolean>();
  const isNamed = (id: number): boolean => {
    let v = namedCache.get(id);
    if (v === undefined) {
      v = id === 65535 ? true : language.nodeTypeIsNamed(id);
      namedCache.set(id, v);
    }
    return v;
  };
  const problems: SyntaxProblem[] = [];
  const cursor = tree.walk();
  try {
    const rootStart = cursor.startIndex;
    const root: SNode = {
      type: types[cursor.nodeTypeId] ?? 'ERROR',
      field: null,
      named: true,
      start: rootStart,
      end: cursor.endIndex,
      children: [],
    };
    if (root.type === 'ERROR') problems.push({ node: root, message: 'syntax error' });
    const stack: SNode[] = [root];
    let counter = 0;
    if (!cursor.gotoFirstChild()) return { root, problems };
    for (;;) {
      const typeId = cursor.nodeTypeId;
      const parent = stack[stack.length - 1];
      let node: SNode | undefined;
      const type = typeId === 65535 ? 'ERROR' : types[typeId] ?? 'ERROR';
      if (type !== 'comment') {
        const start = cursor.startIndex;
        const end = cursor.endIndex;
        const fieldId = cursor.currentFieldId;
        node = {
          type,
          field: fieldId ? fields[fieldId] ?? null : null,
          named: isNamed(typeId),
          start,
          end,
          children: [],
        };
        if (start === end && cursor.nodeIsMissing) {
          node.missing = true;
          problems.push({ node, message: `missing ${type}` });
        } else if (type === 'ERROR') {
          problems.push({ node, message: 'syntax error' });
        }
        parent.children.push(node);
      }
      // Comments have no children worth seeing; everything else is entered.
      if (node && cursor.gotoFirstChild()) {
        stack.push(node);
        continue;
      }
      if ((++counter & 0xffff) === 0 && cancelled?.()) break;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent() || stack.length <= 1) return { root, problems };
        stack.pop();
      }
    }
    return { root, problems };
  } finally {
    cursor.delete();
  }
}

/** Offsets of the first character of every line, for offset → row/column. */
export class LineIndex {
  private readonly starts: number[];

  constructor(text: string) {
    const starts = [0];
    let i = text.indexOf('\n');
    while (i >= 0) {
      starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
    this.starts = starts;
  }

  private row(offset: number): number {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  range(start: number, end: number): SourceRange {
    const sr = this.row(start);
    const er = end === start ? sr : this.row(end);
    return { start, end, startRow: sr, startCol: start - this.starts[sr], endRow: er, endCol: end - this.starts[er] };
  }
}

export function childByField(node: SNode, field: string): SNode | undefined {
  for (const c of node.children) if (c.field === field) return c;
  return undefined;
}

export function namedChildren(node: SNode): SNode[] {
  return node.children.filter((c) => c.named);
}
