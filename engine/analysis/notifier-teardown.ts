// What the invalidate callbacks of a file's mmu notifiers tear down (gup-vaddr-no-notifier): a
// notifier only makes a kept kernel mapping of user pages safe when the callback that runs before
// the PTEs change (NOTIFIER_INVALIDATE_FIELDS of a NOTIFIER_OPS_TYPES initializer) drops it.
// Objects are matched by the name of the slot that holds them (a struct field, a global, or a
// local / parameter name): the callback reaches the mapping through its own container (`q =
// container_of(mn, ...)`, `m = q->map`), never through the variables of the function that made
// the mapping, so the field names are what the two sides share. A callback counts with what its
// same-file helpers do (arguments bound to the helpers' parameters), to a bounded depth.

import type { Expr, FunctionIR, SourceRange } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { NOTIFIER_INVALIDATE_FIELDS, NOTIFIER_OPS_TYPES } from '../kernel/api/vma';
import { initTables } from './init-tables';
import { fileFact } from './file-facts';

/** What one invalidate callback (with its helpers) does, by slot name. */
export interface Teardown {
  /** Slots whose address or page an unmap of the table (`kunmap` facet) is given: `vunmap(rd->ring)` -> ring. */
  unmapped: Set<string>;
  /** Slots whose pages a release of the table drops: `put_page(m->pages[i])` -> pages. */
  released: Set<string>;
  /** Slots set to NULL / 0: `q->map = NULL` -> map. */
  cleared: Set<string>;
}

export interface NotifierCallback {
  /** The ops variable and the field naming the callback (`qctl_mn_ops`, `invalidate_range_start`). */
  table: string;
  field: string;
  fn: string;
  /** The callback's name in its definition; absent when the file does not define it. */
  at?: SourceRange;
  /** Absent when the callback is not defined in the file (what it does is unknown). */
  does?: Teardown;
}

export interface NotifierOps {
  /** Every notifier ops table of the file, by name. */
  tables: string[];
  /** Their invalidate callbacks. */
  callbacks: NotifierCallback[];
}

/** Helper nesting followed from a callback (callback -> helper -> helper). */
const MAX_DEPTH = 4;

/**
 * The slot names an expression reaches: a field's name (`q->map`, `&m->pages[i]`, `rd->ring +
 * off` -> map, pages, ring), a variable's name, and for variables what `env` binds them to (the
 * values a local was assigned, the arguments a parameter was called with).
 */
export function slotsOf(e: Expr, env?: Map<string, Set<string>>): Set<string> {
  const out = new Set<string>();
  const walk = (x: Expr, depth: number): void => {
    if (depth > 8) return;
    if (x.kind === 'field') out.add(x.name);
    else if (x.kind === 'index') walk(x.base, depth + 1);
    else if (x.kind === 'unary' && (x.op === '&' || x.op === '*')) walk(x.arg, depth + 1);
    else if (x.kind === 'binary' && (x.op === '+' || x.op === '-')) walk(x.left, depth + 1);
    else if (x.kind === 'var') {
      out.add(x.name);
      for (const s of env?.get(x.name) ?? []) out.add(s);
    }
  };
  walk(e, 0);
  return out;
}

/** A null pointer or zero: `NULL`, `0`. */
function isNull(e: Expr): boolean {
  return e.kind === 'int' && e.value === 0;
}

/** `name` is no local, parameter or lowering temporary of `fn`: a global. */
export function isGlobal(fn: FunctionIR, name: string): boolean {
  return !fn.locals[name] && !fn.params.some((p) => p.name === name) && !name.startsWith('$');
}

/** What `fn` does to slots, its parameters bound to `params`, following same-file callees. */
function teardownOf(fn: FunctionIR, params: Map<string, Set<string>>, byName: Map<string, FunctionIR>, into: Teardown, depth: number, seen: Set<string>): void {
  const stmts = fn.blocks.flatMap((b) => b.stmts);
  // Locals: the slots of every value assigned to them (twice, for copies of copies).
  const env = new Map(params);
  for (let pass = 0; pass < 2; pass++) {
    for (const s of stmts) {
      if (s.kind !== 'assign' || s.target.kind !== 'var') continue;
      const l = env.get(s.target.name) ?? new Set<string>();
      for (const x of slotsOf(s.value, env)) l.add(x);
      env.set(s.target.name, l);
    }
    for (const s of stmts) {
      if (s.kind !== 'call' || !s.result || s.result.kind !== 'var' || lookupApi(s.callee)) continue;
      // `m = container_of(mn, ...)`, `m = xchg(&q->map, NULL)`: the arguments' slots.
      const l = env.get(s.result.name) ?? new Set<string>();
      for (const a of s.args) for (const x of slotsOf(a, env)) l.add(x);
      env.set(s.result.name, l);
    }
  }
  const add = (to: Set<string>, e: Expr | undefined): void => { if (e) for (const x of slotsOf(e, env)) to.add(x); };
  for (const s of stmts) {
    // A field, an element or a global set to NULL (a local or parameter of the callback is not a slot).
    const global = s.kind === 'assign' && s.target.kind === 'var' && isGlobal(fn, s.target.name);
    if (s.kind === 'assign' && (s.target.kind !== 'var' || global) && isNull(s.value)) add(into.cleared, s.target);
    if (s.kind !== 'call') continue;
    const api = lookupApi(s.callee);
    if (api?.kunmap) add(into.unmapped, s.args[api.kunmap.arg]);
    if (api?.refs?.op === 'release') add(into.released, s.args[api.refs.pagesArg]);
    const helper = !api ? byName.get(s.callee) : undefined;
    if (!helper || depth >= MAX_DEPTH || seen.has(helper.name)) continue;
    const bound = new Map<string, Set<string>>();
    helper.params.forEach((p, i) => { if (s.args[i]) bound.set(p.name, slotsOf(s.args[i], env)); });
    seen.add(helper.name);
    teardownOf(helper, bound, byName, into, depth + 1, seen);
    seen.delete(helper.name);
  }
}

/** The file's notifier ops tables and what their invalidate callbacks tear down. */
export const notifierOps = fileFact('notifierOps', (byName: Map<string, FunctionIR>, text: string): NotifierOps => {
  const out: NotifierOps = { tables: [], callbacks: [] };
  for (const t of initTables(text).values()) {
    if (!NOTIFIER_OPS_TYPES.includes(t.type)) continue;
    out.tables.push(t.name);
    for (const field of NOTIFIER_INVALIDATE_FIELDS) {
      const name = t.fields.get(field);
      // `.invalidate_range_start = NULL`: no callback there.
      if (!name || name === 'NULL') continue;
      const fn = byName.get(name);
      if (!fn) { out.callbacks.push({ table: t.name, field, fn: name }); continue; }
      const does: Teardown = { unmapped: new Set(), released: new Set(), cleared: new Set() };
      teardownOf(fn, new Map(), byName, does, 0, new Set([fn.name]));
      out.callbacks.push({ table: t.name, field, fn: name, at: fn.nameRange, does });
    }
  }
  return out;
});
