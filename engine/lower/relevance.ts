// The batch path's relevance filter (see engine/rules/relevance.ts for which API calls count):
// which top-level function definitions can be left out of the mirror and the lowering.
//
// Cheap on purpose: only the root's children are visited through tree-sitter (a few calls per
// top-level item); function bodies are scanned as text. Conservative on purpose: anything that
// is not a plainly named function_definition with a body is kept, and its identifiers pull in the
// functions it names. Relevance then spreads along same-file references both ways until a
// fixpoint: a relevant function's callees are needed for its helper summaries, and a caller
// of a relevant helper may see the helper's pin or release (gup-summaries.ts); the callees of
// such a caller decide whether a helper is "code we cannot see" or a known no-op.

import type { SyntaxNode, Tree } from '../syntax/parser';

const IDENT = /[A-Za-z_]\w*/g;

function identifiersIn(text: string, start: number, end: number): Set<string> {
  const out = new Set<string>();
  const s = text.slice(start, end);
  IDENT.lastIndex = 0;
  for (let m = IDENT.exec(s); m; m = IDENT.exec(s)) out.add(m[0]);
  return out;
}

/** The declared name of a function_definition, or undefined when it is not a plain identifier. */
function functionName(fn: SyntaxNode): string | undefined {
  let d: SyntaxNode | null = fn.childForFieldName('declarator');
  for (let depth = 0; d && depth < 16; depth++) {
    if (d.type === 'identifier') return d.text;
    if (d.type === 'parenthesized_declarator') d = d.namedChild(0);
    else d = d.childForFieldName('declarator');
  }
  return undefined;
}

/**
 * Start offsets of the top-level function definitions that can be skipped: none of them, nor
 * anything they are connected to by same-file references, names a relevant API. `text` is the
 * text the tree was parsed from. Returns an empty set when in doubt.
 */
export function skippableFunctions(tree: Tree, text: string, relevantApis: ReadonlySet<string>, cancelled?: () => boolean): Set<number> {
  interface Item { start: number; name?: string; ids: Set<string>; relevant: boolean }
  const items: Item[] = [];
  const cursor = tree.walk();
  try {
    if (!cursor.gotoFirstChild()) return new Set();
    do {
      if (!cursor.nodeIsNamed || cursor.nodeType === 'comment') continue;
      const node = cursor.currentNode;
      const start = node.startIndex;
      const end = node.endIndex;
      // A definition with a parse error inside (a kernel loop macro the grammar does not know,
      // `list_for_each_entry(...) {`) is still lowered from its own subtree only (FileLowerer
      // functionDefinition), so its whole text decides for it like for any other.
      if (node.type === 'function_definition') {
        const body = node.childForFieldName('body');
        const name = functionName(node);
        if (body && name) {
          const ids = identifiersIn(text, start, end);
          let relevant = false;
          for (const id of ids) if (relevantApis.has(id)) { relevant = true; break; }
          items.push({ start, name, ids, relevant });
          continue;
        }
      }
      // Anything else (declarations, tables, macro-defined functions, #if blocks, errors) is kept.
      items.push({ start, ids: identifiersIn(text, start, end), relevant: true });
    } while (cursor.gotoNextSibling());
  } finally {
    cursor.delete();
  }
  if (cancelled?.()) return new Set();
  const byName = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (!it.name) return;
    const l = byName.get(it.name);
    if (l) l.push(i); else byName.set(it.name, [i]);
  });
  // Undirected same-file reference graph: i -- j when i's body names j.
  const adj: number[][] = items.map(() => []);
  items.forEach((it, i) => {
    for (const id of it.ids) {
      const targets = byName.get(id);
      if (!targets) continue;
      for (const j of targets) if (j !== i) { adj[i].push(j); adj[j].push(i); }
    }
  });
  // Each item enters the work list at most once: linear in the graph's size.
  const work: number[] = [];
  items.forEach((it, i) => { if (it.relevant) work.push(i); });
  while (work.length) {
    const i = work.pop() as number;
    for (const j of adj[i]) if (!items[j].relevant) { items[j].relevant = true; work.push(j); }
  }
  const out = new Set<number>();
  for (const it of items) if (!it.relevant) out.add(it.start);
  return out;
}
