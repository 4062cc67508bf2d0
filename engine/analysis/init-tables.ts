// Designated initializers of file-scope structs (`static const struct mm_walk_ops ops = { .pmd_entry
// = walker, };`, `struct vm_operations_struct vm_ops = { .fault = f, .page_mkwrite = g };`): which
// function each callback field names. The lowering keeps only the names of globals, so this reads
// the text: a struct definition at file scope with an initializer in braces. Used to follow a
// page walk into its callbacks (wrprotect-under-read-lock) and to see what a file's fault
// handlers take (fault-under-lock).

export interface InitTable {
  /** `mm_walk_ops`, `vm_operations_struct`. */
  type: string;
  /** The variable's name. */
  name: string;
  /** Field -> the identifier it is set to (`pmd_entry` -> `clear_refs_pte_range`). */
  fields: Map<string, string>;
}

import { fileFact } from './file-facts';

const HEAD = /\bstruct\s+(\w+)\s+(?:(?:const|__\w+)\s+)*(\w+)\s*(?:__\w+(?:\([^)]*\))?\s*)*=\s*\{/g;
// The last field of a one-line table (`{ .pmd_entry = fn }`) ends the body read (its `}` is not
// in it).
const FIELD = /\.(\w+)\s*=\s*&?\s*(\w+)\s*(?=[,}\n]|$)/g;
/** Longest initializer body read (a table of callbacks is short; a data table is not interesting). */
const MAX_BODY = 4000;

let lastText: string | undefined;
let lastTables: Map<string, InitTable> = new Map();

/** Every file-scope struct initializer with designated fields, by variable name. */
export const initTables = fileFact('initTables', (text: string): Map<string, InitTable> => {
  if (text === lastText) return lastTables;
  const out = new Map<string, InitTable>();
  HEAD.lastIndex = 0;
  for (let m = HEAD.exec(text); m; m = HEAD.exec(text)) {
    const open = HEAD.lastIndex - 1;
    let depth = 0;
    let end = -1;
    for (let i = open; i < text.length && i - open < MAX_BODY; i++) {
      const c = text[i];
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) { end = i; break; }
    }
    if (end < 0) continue;
    const body = text.slice(open + 1, end);
    const fields = new Map<string, string>();
    FIELD.lastIndex = 0;
    for (let f = FIELD.exec(body); f; f = FIELD.exec(body)) fields.set(f[1], f[2]);
    if (fields.size) out.set(m[2], { type: m[1], name: m[2], fields });
  }
  lastText = text;
  lastTables = out;
  return out;
});

/** Functions named by the given fields of every initializer of the given struct type. */
export const callbacksOfType = fileFact('callbacksOfType', (text: string, type: string, fields: string[]): { table: string; field: string; fn: string }[] => {
  const out: { table: string; field: string; fn: string }[] = [];
  for (const t of initTables(text).values()) {
    if (t.type !== type) continue;
    for (const f of fields) {
      const fn = t.fields.get(f);
      if (fn) out.push({ table: t.name, field: f, fn });
    }
  }
  return out;
});
