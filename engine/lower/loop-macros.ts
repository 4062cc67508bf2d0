// Shapes of the kernel's iteration macros, a lowering concern like likely()/unlikely(): which
// arguments the macro assigns on every iteration (the cursors) and, for the scatterlist walk,
// which argument is the count and which the index so the loop gets an induction variable.
// This is syntax knowledge only (what the macro's `for (...)` header assigns), never the
// behaviour of a kernel API, which lives in engine/kernel/api/.

export interface LoopMacroShape {
  /** Argument positions the macro assigns each iteration (havoc'ed at the top of the body). */
  cursors: number[];
  /** `for_each_sg(sgl, sg, nents, i)`: `i` counts 0..nents-1. */
  counted?: { index: number; count: number };
}

const SHAPES: [RegExp, LoopMacroShape][] = [
  [/^for_each_sg$/, { cursors: [1], counted: { index: 3, count: 2 } }],
  [/^for_each_sgtable_(sg|dma_sg)$/, { cursors: [1, 2] }],
  [/^for_each_sgtable_(page|dma_page)$/, { cursors: [1] }],
  [/^(h?list|llist|list_lru|plist)_for_each(_entry)?(_rcu|_continue|_from|_reverse|_continue_rcu|_continue_reverse|_from_reverse)*$/, { cursors: [0] }],
  [/^(h?list|llist|plist)_for_each(_entry)?(_safe)(_continue|_from|_reverse)*$/, { cursors: [0, 1] }],
  [/^list_for_each_prev(_safe)?$/, { cursors: [0, 1] }],
  [/^rbtree_postorder_for_each_entry_safe$/, { cursors: [0, 1] }],
  [/^xa_for_each(_start|_range|_marked)?$/, { cursors: [1, 2] }],
  [/^xas_for_each(_marked|_conflict)?$/, { cursors: [1] }],
  [/^idr_for_each_entry(_continue|_ul|_continue_ul)?$/, { cursors: [1, 2] }],
  [/^radix_tree_for_each_(slot|tagged)$/, { cursors: [0, 2] }],
  [/^hash_for_each(_rcu|_safe)?$/, { cursors: [1, 2, 3] }],
  [/^hash_for_each_possible(_rcu|_safe)?$/, { cursors: [1] }],
  [/^for_each_(possible|online|present|cpu|node|online_node)_?(cpu|node)?$/, { cursors: [0] }],
  [/^for_each_(process|thread)$/, { cursors: [0, 1] }],
  [/^for_each_vma(_range)?$/, { cursors: [1] }],
  [/^(bio|rq|bvec_iter)_for_each_(segment|bvec|folio_all|segment_all|page_all)$/, { cursors: [0, 2] }],
  [/^mas_for_each$/, { cursors: [1] }],
  [/^for_each_set_bit(_from)?$/, { cursors: [0] }],
];

export function isLoopMacroName(name: string): boolean {
  return /for_each|^do_each_|while_each_/.test(name);
}

/** The shape of a known macro; unknown `*for_each*` macros havoc every plain variable argument. */
export function loopMacroShape(name: string): LoopMacroShape | undefined {
  for (const [re, shape] of SHAPES) if (re.test(name)) return shape;
  return undefined;
}

/** `scoped_guard(mutex, &lock) { ... }`: a block that holds a lock (not a loop). */
export function isScopedGuardName(name: string): boolean {
  return name === 'scoped_guard' || name === 'scoped_cond_guard';
}

/** Wrappers that are the identity on their (first) argument as far as values go. */
export const IDENTITY_WRAPPERS = new Set<string>([
  'likely', 'unlikely', 'READ_ONCE', 'ACCESS_ONCE', 'data_race', '__builtin_expect', 'unsafe_read_once',
  'likely_notrace', 'unlikely_notrace', 'no_free_ptr', 'RCU_INITIALIZER',
]);

/** `WRITE_ONCE(x, v)` and friends: an assignment of the second argument to the first. */
export const ASSIGN_WRAPPERS = new Set<string>(['WRITE_ONCE']);
