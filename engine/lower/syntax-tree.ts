// A plain-JS mirror of the tree-sitter tree, built in one cursor walk.
//
// Every property read on a web-tree-sitter Node crosses into wasm; a TreeCursor walk that
// reads type id, field id and the two offsets once per node is the cheapest way to see the
// whole tree (measured: roughly 0.6 µs per node, against 1.2-1.6 µs for `node.children`).
// The lowering then works on these small objects with no further wasm calls. The walk is
// iterative, so a 3000-deep nesting cannot overflow the JS stack here; the recursive lowering
// enforces its own depth limit.

import type { SourceRange } from '../ir';
import { type Tree, type WalkCursor, openWalkCursor } from '../syntax/parser';
import { lineOfOffset } from '../line-starts';

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

/**
 * Parents whose children never carry a field name: reading the field id (a wasm call) is
 * skipped for their children. These are the most common parents (statement lists, argument
 * lists), so this saves a good share of the walk.
 */
const FIELDLESS_PARENTS = new Set([
  'translation_unit', 'compound_statement', 'expression_statement', 'argument_list', 'parameter_list',
  'parenthesized_expression', 'return_statement', 'else_clause', 'initializer_list', 'string_literal',
  'char_literal', 'concatenated_string', 'declaration_list', 'field_declaration_list', 'enumerator_list',
  'type_qualifier', 'storage_class_specifier', 'parenthesized_declarator', 'attributed_statement',
  'break_statement', 'continue_statement', 'comment', 'system_lib_string', 'preproc_params',
]);

/**
 * Named node types that are always leaves. Together with anonymous nodes (tokens, always
 * leaves) this spares the failing `gotoFirstChild` call on most of the tree's nodes.
 */
const LEAF_TYPES = new Set([
  'identifier', 'field_identifier', 'type_identifier', 'statement_identifier', 'primitive_type',
  'number_literal', 'true', 'false', 'null', 'escape_sequence', 'string_content', 'system_lib_string',
  'preproc_arg', 'preproc_directive', 'character',
]);

/** Shared by every leaf (never mutated): saves an array per token. */
const NO_CHILDREN: SNode[] = Object.freeze([]) as unknown as SNode[];

/** Subtrees the lowering reads only as text: their insides are not mirrored. */
const OPAQUE = new Set(['string_literal', 'char_literal', 'system_lib_string', 'preproc_arg', 'field_declaration_list', 'enumerator_list']);

/** Leaves that are one identifier token (tree-sitter-c aliases of `identifier`). */
const IDENTIFIER_TYPES = new Set(['identifier', 'field_identifier', 'type_identifier', 'statement_identifier']);

/**
 * End of the identifier token starting at `start`, read from the text instead of the tree
 * (a wasm call per identifier, about a third of all leaves): the token is the longest run of
 * identifier characters. Only used where no token can be MISSING (a clean item: a MISSING
 * identifier is zero-width whatever the text says). Characters the grammar also allows in an
 * identifier (`$`, `\u` escapes, non-ASCII letters) fall back to the tree.
 */
function identifierEnd(text: string, start: number, cursor: WalkCursor): number {
  let i = start;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95) continue;
    if (c === 36 || c === 92 || c >= 128) return cursor.endIndex();
    break;
  }
  return i > start ? i : cursor.endIndex();
}

/**
 * File-scope preprocessor blocks: their items (`#ifdef CONFIG_X` ... `#else` ... `#endif`) are
 * file-scope items like the root's children.
 */
export const FILE_SCOPE_BLOCKS: ReadonlySet<string> = new Set(['preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef']);

/**
 * Whether a node whose ancestors are `stack` is a file-scope item: a child of the root or of
 * file-scope `#if`/`#ifdef` blocks and their branches only (engine/lower/relevance.ts lists the
 * function definitions there among the file's items, and may ask for them to be skipped).
 */
function atFileScope(stack: readonly SNode[]): boolean {
  for (let k = 1; k < stack.length; k++) if (!FILE_SCOPE_BLOCKS.has(stack[k].type)) return false;
  return true;
}

/**
 * `text`, when given, must be the text the tree was parsed from; it lets identifier ends be
 * read from the text (see identifierEnd). `skip`, when given, holds start offsets of file-scope
 * function definitions (atFileScope) that are left out entirely (the batch path's relevance filter,
 * engine/lower/relevance.ts). `onItems`, when given, is called each time the walk is about to
 * start a top-level item and at least two finished ones wait in `root.children`: the caller may
 * consume (and remove) all but the last of them (engine/lower/index.ts lowers them there, so the
 * mirror never holds more than a couple of top-level items, not the whole file). It runs outside
 * the walk's cursor state, so it may call tree-sitter.
 */
export function mirrorTree(tree: Tree, cancelled?: () => boolean, text?: string, skip?: ReadonlySet<number>, onItems?: (root: SNode, problems: SyntaxProblem[]) => void): MirrorResult {
  const language = tree.language;
  const types = language.types;
  const fields = language.fields;
  const namedById: (boolean | undefined)[] = [];
  const isNamed = (id: number): boolean => {
    let v = namedById[id];
    if (v === undefined) {
      v = id === 65535 ? true : language.nodeTypeIsNamed(id);
      namedById[id] = v;
    }
    return v;
  };
  const problems: SyntaxProblem[] = [];
  const cursor = openWalkCursor(tree);
  try {
    const root: SNode = {
      type: types[cursor.typeId()] ?? 'ERROR',
      field: null,
      named: true,
      start: cursor.startIndex(),
      end: cursor.endIndex(),
      children: [],
    };
    if (root.type === 'ERROR') problems.push({ node: root, message: 'syntax error' });
    const stack: SNode[] = [root];
    let counter = 0;
    if (!cursor.gotoFirstChild()) return { root, problems };
    let parent = root;
    let parentHasFields = !FIELDLESS_PARENTS.has(root.type);
    // File-scope initializer tables (`static const struct pci_device_id ids[] = { ... }`) can
    // be large and nothing reads inside them; inside a function they may hold calls.
    let functionsOpen = 0;
    // Depth in `stack` of the outermost open node whose subtree has no parse error (0: none).
    // Inside it no token is MISSING, so a token the lowering does not read costs only its type
    // (and field) read: its offsets are not fetched, and each inner node's end is read once when
    // the walk leaves it instead of being carried up from its last child. Every cursor read is
    // a marshalled wasm call; this removes about a third of them (measured on the bench corpus).
    let cleanFrom = 0;
    for (;;) {
      if (onItems !== undefined && stack.length === 1 && root.children.length > 1) cursor.outside(() => onItems(root, problems));
      const typeId = cursor.typeId();
      const type = typeId === 65535 ? 'ERROR' : types[typeId] ?? 'ERROR';
      let descended = false;
      const named = typeId === 65535 || isNamed(typeId);
      if (type === 'comment') {
        // Not mirrored; only its end matters if it is the parent's last child.
        if (cleanFrom === 0) parent.end = cursor.endIndex();
      } else if (!named) {
        // A token. Only operators (they have a field), commas (argument grouping) and tokens
        // inserted by error recovery are read by the lowering; the rest are not allocated.
        const fieldId = parentHasFields ? cursor.fieldId() : 0;
        if (cleanFrom !== 0 && !fieldId && type !== ',') {
          // Not read by the lowering and cannot be MISSING here.
        } else {
        const start = cursor.startIndex();
        const end = cursor.endIndex();
        parent.end = end;
        if (fieldId || start === end || type === ',') {
          const node: SNode = { type, field: fieldId ? fields[fieldId] ?? null : null, named: false, start, end, children: NO_CHILDREN };
          parent.children.push(node);
          if (start === end && cursor.isMissing()) {
            node.missing = true;
            problems.push({ node, message: `missing ${type}` });
          }
        }
        }
      } else if (skip !== undefined && type === 'function_definition' && atFileScope(stack) && skip.has(cursor.startIndex())) {
        // Left out: like a comment, only its end matters if it is the file's last item.
        if (cleanFrom === 0) parent.end = cursor.endIndex();
      } else {
        const start = cursor.startIndex();
        const fieldId = parentHasFields ? cursor.fieldId() : 0;
        const leaf = LEAF_TYPES.has(type);
        const node: SNode = {
          type,
          field: fieldId ? fields[fieldId] ?? null : null,
          named: true,
          start,
          end: start,
          children: leaf ? NO_CHILDREN : [],
        };
        parent.children.push(node);
        // An opaque subtree that contains a parse error is walked anyway so the error is reported.
        const opaque = !leaf && (OPAQUE.has(type) || (type === 'initializer_list' && functionsOpen === 0)) && !cursor.hasError();
        // Checked on file-scope items only (one extra call each): a function body is the
        // unit that is either clean or not.
        const clean = cleanFrom === 0 && !leaf && !opaque && stack.length === 1 && !cursor.hasError();
        if (!leaf && !opaque && cursor.gotoFirstChild()) {
          // An inner node ends where its last child ends; set when we climb back out.
          stack.push(node);
          parent = node;
          parentHasFields = !FIELDLESS_PARENTS.has(type);
          if (type === 'function_definition') functionsOpen++;
          descended = true;
          if (clean) cleanFrom = stack.length;
        } else {
          node.end = cleanFrom !== 0 && text !== undefined && IDENTIFIER_TYPES.has(type) ? identifierEnd(text, start, cursor) : cursor.endIndex();
          if (start === node.end && cursor.isMissing()) {
            node.missing = true;
            problems.push({ node, message: `missing ${type}` });
          } else if (type === 'ERROR') {
            problems.push({ node, message: 'syntax error' });
          }
        }
        if (type === 'ERROR' && descended) problems.push({ node, message: 'syntax error' });
        if (!descended && cleanFrom === 0) parent.end = node.end;
      }
      if (descended) continue;
      if ((++counter & 0xffff) === 0 && cancelled && cursor.outside(cancelled)) break;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent() || stack.length <= 1) return { root, problems };
        const clean = cleanFrom !== 0;
        if (cleanFrom === stack.length) cleanFrom = 0;
        const done = stack.pop() as SNode;
        // In a clean subtree the node's end was not carried up from its children: read it.
        if (clean) done.end = cursor.endIndex();
        if (done.type === 'function_definition') functionsOpen--;
        parent = stack[stack.length - 1];
        parentHasFields = !FIELDLESS_PARENTS.has(parent.type);
        if (cleanFrom === 0) parent.end = done.end;
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

  /** The row found last: the lowering asks for ranges mostly in source order. */
  private lastRow = 0;

  private row(offset: number): number {
    const s = this.starts;
    const r = this.lastRow;
    if (s[r] <= offset && (r + 1 >= s.length || offset < s[r + 1])) return r;
    if (r + 1 < s.length && s[r + 1] <= offset && (r + 2 >= s.length || offset < s[r + 2])) return (this.lastRow = r + 1);
    this.lastRow = lineOfOffset(s, offset);
    return this.lastRow;
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
