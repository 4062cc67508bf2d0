// C declarators → names and type text (`struct page **`, `struct page *[16]`), shared by
// locals, parameters, globals and function signatures.

import { type SNode, childByField } from './syntax-tree';

export interface DeclaratorInfo {
  name: string;
  nameNode?: SNode;
  /** Pointer depth written in the declarator (`**p` → 2). */
  stars: number;
  /** Array dimensions outermost first; -1 when the size is not a constant we can fold. */
  arrays: number[];
  /** A function declarator (a prototype, or a function pointer when `stars` > 0 inside parens). */
  isFunction: boolean;
  functionPointer: boolean;
  params?: SNode;
  /** `= value` of an init_declarator. */
  init?: SNode;
}

const MAX_DECLARATOR_DEPTH = 64;

export function normalizeSpace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Fold a constant array size (`16`, `2 * 8`, `(1 << 4)`); -1 when it is not literal arithmetic. */
export function foldConstant(node: SNode | undefined, text: string, depth = 0): number {
  if (!node || depth > 32) return -1;
  switch (node.type) {
    case 'number_literal': {
      const v = parseNumberLiteral(text.slice(node.start, node.end));
      return Number.isInteger(v) ? v : -1;
    }
    case 'parenthesized_expression': {
      const inner = node.children.find((c) => c.named);
      return foldConstant(inner, text, depth + 1);
    }
    case 'binary_expression': {
      const l = foldConstant(childByField(node, 'left'), text, depth + 1);
      const r = foldConstant(childByField(node, 'right'), text, depth + 1);
      const opNode = childByField(node, 'operator');
      if (l < 0 || r < 0 || !opNode) return -1;
      const op = text.slice(opNode.start, opNode.end);
      switch (op) {
        case '+': return l + r;
        case '-': return l - r >= 0 ? l - r : -1;
        case '*': return l * r;
        case '/': return r ? Math.floor(l / r) : -1;
        case '<<': return r < 31 ? l * 2 ** r : -1;
        case '>>': return Math.floor(l / 2 ** r);
        default: return -1;
      }
    }
    default:
      return -1;
  }
}

/** Value of a C integer (or floating) literal: hex, octal, binary, suffixes `UL`, `ull`... */
export function parseNumberLiteral(raw: string): number {
  let t = raw.replace(/'/g, '');
  if (/^0[xX]/.test(t)) {
    t = t.replace(/[uUlL]+$/, '');
    if (/[pP]/.test(t)) return NaN;
    return parseInt(t.slice(2), 16);
  }
  if (/^0[bB]/.test(t)) return parseInt(t.slice(2).replace(/[uUlL]+$/, ''), 2);
  if (/[.eE]/.test(t)) return parseFloat(t.replace(/[fFlL]+$/, ''));
  t = t.replace(/[uUlL]+$/, '');
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  return parseInt(t, 10);
}

/** Walk a (possibly nested) declarator down to its identifier. */
export function readDeclarator(node: SNode | undefined, text: string): DeclaratorInfo {
  const info: DeclaratorInfo = { name: '', stars: 0, arrays: [], isFunction: false, functionPointer: false };
  let n = node;
  let insideParens = false;
  for (let depth = 0; n && depth < MAX_DECLARATOR_DEPTH; depth++) {
    switch (n.type) {
      case 'init_declarator':
        info.init = childByField(n, 'value');
        n = childByField(n, 'declarator');
        continue;
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        info.stars++;
        if (insideParens && info.isFunction) info.functionPointer = true;
        n = childByField(n, 'declarator');
        continue;
      case 'array_declarator':
      case 'abstract_array_declarator':
        info.arrays.push(foldConstant(childByField(n, 'size'), text));
        n = childByField(n, 'declarator');
        continue;
      case 'function_declarator':
      case 'abstract_function_declarator':
        info.isFunction = true;
        info.params = childByField(n, 'parameters');
        n = childByField(n, 'declarator');
        continue;
      case 'parenthesized_declarator':
      case 'abstract_parenthesized_declarator':
      case 'attributed_declarator':
        insideParens = insideParens || n.type !== 'attributed_declarator';
        n = n.children.find((c) => c.named && c.type !== 'attribute_declaration' && c.type !== 'ms_call_modifier');
        continue;
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
      case 'primitive_type':
        info.name = text.slice(n.start, n.end);
        info.nameNode = n;
        n = undefined;
        continue;
      default:
        // Something tree-sitter recovered oddly (a macro in declarator position): take its text.
        info.name = normalizeSpace(text.slice(n.start, n.end)).replace(/[^A-Za-z0-9_].*$/, '');
        info.nameNode = n;
        n = undefined;
        continue;
    }
  }
  return info;
}

/** The specifier part of a declaration (`const struct page`), without storage classes. */
export function baseTypeText(decl: SNode, text: string): string {
  const parts: string[] = [];
  for (const c of decl.children) {
    if (c.field === 'declarator') break;
    if (c.type === 'storage_class_specifier' || c.type === 'attribute_specifier' || c.type === 'attribute_declaration' || c.type === 'ms_declspec_modifier') continue;
    // An annotation macro we do not blank (`__net_init`) shows up as an ERROR: not part of the type.
    if (c.type === 'ERROR') continue;
    if (!c.named) continue;
    if (c.type === 'struct_specifier' || c.type === 'union_specifier' || c.type === 'enum_specifier') {
      // `struct foo { ... } x;` — keep `struct foo`, not the body.
      const name = childByField(c, 'name');
      const kw = c.type.slice(0, c.type.indexOf('_'));
      parts.push(name ? `${kw} ${text.slice(name.start, name.end)}` : `${kw} <anonymous>`);
      continue;
    }
    parts.push(normalizeSpace(text.slice(c.start, c.end)));
  }
  return parts.join(' ');
}

export function storageOf(decl: SNode, text: string): string[] {
  const out: string[] = [];
  for (const c of decl.children) {
    if (c.field === 'declarator' || c.field === 'body') break;
    if (c.type === 'storage_class_specifier') out.push(normalizeSpace(text.slice(c.start, c.end)));
  }
  return out;
}

/** Full type text of one declarator over a base type. */
export function typeText(base: string, d: DeclaratorInfo): string {
  if (d.functionPointer) return `${base} (*)()`;
  let t = base;
  if (d.stars) t += ' ' + '*'.repeat(d.stars);
  for (const a of d.arrays) t += a >= 0 ? `[${a}]` : '[]';
  return t;
}
