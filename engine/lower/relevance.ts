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
import { FILE_SCOPE_BLOCKS } from './syntax-tree';
import { firstMacroArgument, macroDefinitionName } from '../syntax/macro-definition';
import { identifiersOfRange, nestedDefinitionsOfRange, relevanceOutcome, spreadRelevance, type IdentifierMemo, type RelevanceOutcome } from '../syntax/relevance-graph';

/** Top-level node types that hold no code of their own. */
const DATA_ITEMS = new Set(['declaration', 'type_definition', 'struct_specifier', 'union_specifier', 'enum_specifier', 'expression_statement']);

/** Nesting of such blocks looked into; a deeper block is kept whole. */
const MAX_BLOCK_DEPTH = 32;

/**
 * The declared name of a function_definition, or undefined when it is not a plain identifier.
 * Read from `text` by offsets, never through the node's `text`: that asks the parse's input
 * callback again, which counts each read against the parse's step budget and answers '' once it
 * is spent, so in the large files that spend most of it most functions lost their names and were
 * kept, with all they name (kernel/sched/fair.c: 421 functions lowered for one relevant one).
 */
function functionName(fn: SyntaxNode, text: string): string | undefined {
  let d: SyntaxNode | null = fn.childForFieldName('declarator');
  for (let depth = 0; d && depth < 16; depth++) {
    if (d.type === 'identifier') return text.slice(d.startIndex, d.endIndex);
    if (d.type === 'parenthesized_declarator') d = d.namedChild(0);
    else d = d.childForFieldName('declarator');
  }
  return undefined;
}

/**
 * `MACRO(first, ...);`-less head followed by a block: the name the lowering gives the function
 * the pair defines, and the block (engine/lower/index.ts macroFunction reads the same shape).
 */
function macroDefinitionAt(stmt: SyntaxNode, text: string): { name: string; body: SyntaxNode } | undefined {
  let body = stmt.nextNamedSibling;
  while (body && body.type === 'comment') body = body.nextNamedSibling;
  if (!body || body.type !== 'compound_statement') return undefined;
  let call: SyntaxNode | null = stmt.firstNamedChild;
  while (call && call.type === 'comment') call = call.nextNamedSibling;
  if (!call || call.type !== 'call_expression') return undefined;
  const fn = call.childForFieldName('function');
  const args = call.childForFieldName('arguments');
  if (!fn || fn.type !== 'identifier' || !args) return undefined;
  const inner = text.slice(args.startIndex + 1, Math.max(args.startIndex + 1, args.endIndex - 1));
  return { name: macroDefinitionName(text.slice(fn.startIndex, fn.endIndex), firstMacroArgument(inner)), body };
}

/**
 * Start offsets of the top-level function definitions that can be skipped: none of them, nor
 * anything they are connected to by same-file references, names a relevant API. `text` is the
 * text the tree was parsed from. Returns an empty set when in doubt.
 */
export function skippableFunctions(tree: Tree, text: string, relevantApis: ReadonlySet<string>, cancelled?: () => boolean, report?: (o: RelevanceOutcome) => void, memo?: IdentifierMemo): Set<number> {
  interface Item { start: number; end: number; name?: string; ids: Set<string>; relevant: boolean; data?: boolean; alsoDefines?: string[] }
  const items: Item[] = [];
  const cursor = tree.walk();
  // One list of file-scope items: the root's children, or (depth > 0) a file-scope `#if` /
  // `#ifdef` block's or its `#else` / `#elif` branch's. A function under `#ifdef CONFIG_X` is as
  // much a file-scope definition as one outside (the lowering and the mirror's skip treat it so),
  // and keeping whole blocks kept hundreds of functions in files such as kernel/sched/fair.c. The
  // block's own condition names configuration macros, not functions: it is no item.
  const visit = (depth: number): void => {
    do {
      if (!cursor.nodeIsNamed || cursor.nodeType === 'comment') continue;
      if (depth > 0 && (cursor.currentFieldName === 'name' || cursor.currentFieldName === 'condition')) continue;
      const node = cursor.currentNode;
      const start = node.startIndex;
      const end = node.endIndex;
      if (FILE_SCOPE_BLOCKS.has(node.type) && depth < MAX_BLOCK_DEPTH) {
        if (cursor.gotoFirstChild()) {
          visit(depth + 1);
          cursor.gotoParent();
        }
        continue;
      }
      // A definition with a parse error inside (a kernel loop macro the grammar does not know,
      // `list_for_each_entry(...) {`) is still lowered from its own subtree only (FileLowerer
      // functionDefinition), so its whole text decides for it like for any other.
      if (node.type === 'function_definition') {
        const body = node.childForFieldName('body');
        const name = functionName(node, text);
        if (body && name) {
          const ids = identifiersOfRange(text, start, end, memo);
          let relevant = false;
          for (const id of ids) if (relevantApis.has(id)) { relevant = true; break; }
          // A definition nested in this one (a GNU C nested function to the grammar, often a
          // missing `}` above it) is lowered as a function too.
          items.push({ start, end, name, ids, relevant, alsoDefines: nestedDefinitionsOfRange(text, start, end, memo) });
          continue;
        }
      }
      // A function defined through a macro (`SYSCALL_DEFINE2(name, ...)` then `{ ... }`): the
      // lowering makes one function of the two (macroFunction), so they are one item here, which
      // defines the name the lowering gives it. Kept like any other item that is not a plain
      // definition (the mirror cannot leave it out), and connected to the items that name it.
      if (node.type === 'expression_statement') {
        const made = macroDefinitionAt(node, text);
        if (made) {
          while (cursor.gotoNextSibling() && cursor.startIndex < made.body.startIndex) { /* comments */ }
          const ids = identifiersOfRange(text, start, made.body.endIndex, memo);
          items.push({ start, end: made.body.endIndex, ids, relevant: true, alsoDefines: [made.name, ...(nestedDefinitionsOfRange(text, start, made.body.endIndex, memo) ?? [])] });
          continue;
        }
      }
      // Anything else (declarations, tables, deeper #if blocks, errors) is kept. Declarations and top-level macro invocations are data: the functions they name
      // (an ops table, EXPORT_SYMBOL) are references, not calls (relevance-graph.ts).
      items.push({ start, end, ids: identifiersOfRange(text, start, end, memo), relevant: true, data: DATA_ITEMS.has(node.type), alsoDefines: nestedDefinitionsOfRange(text, start, end, memo) });
    } while (cursor.gotoNextSibling());
  };
  try {
    if (!cursor.gotoFirstChild()) return new Set();
    visit(0);
  } finally {
    cursor.delete();
  }
  if (cancelled?.()) return new Set();
  spreadRelevance(items, relevantApis);
  const out = new Set<number>();
  for (const it of items) if (!it.relevant) out.add(it.start);
  if (out.size) report?.(relevanceOutcome(items, (i) => !items[i].relevant));
  return out;
}
