// Facets about the VALUES some calls produce or test, read by path-feasibility code (the GUP
// analysis's per-path value facts, engine/analysis/gup/value-facts.ts).

/** A memory allocator: what the memory it returns holds. */
export interface AllocFacet {
  /** The memory comes back zero-filled (kzalloc, kcalloc, kmem_cache_zalloc...). */
  zeroed?: boolean;
  /** Zero-filled when this gfp argument includes __GFP_ZERO (kmalloc(size, GFP_KERNEL | __GFP_ZERO)). */
  zeroFlagArg?: number;
}

/**
 * Error pointers (include/linux/err.h): 'make' returns an error pointer built from its errno
 * argument (ERR_PTR, ERR_CAST), 'test' is true exactly for an error pointer (IS_ERR),
 * 'test-or-null' also for NULL (IS_ERR_OR_NULL).
 */
export type ErrPtrFacet = 'make' | 'test' | 'test-or-null';

/**
 * Pure arithmetic the kernel writes as macros (include/linux/minmax.h): the result is the
 * smallest (`min`), largest (`max`) or the first argument bounded by the next two (`clamp`) of
 * the arguments at `args` (the typed forms take the type first: `min_t(size_t, a, b)` reads
 * arguments 1 and 2). The simulator computes them; an unknown call would have made the result an
 * adversary choice (`max(status, 0L)` returning -EINVAL in generic_perform_write()'s revert).
 */
export interface ArithFacet {
  op: 'min' | 'max' | 'clamp';
  args: number[];
}

/**
 * The cursor of an iov_iter (include/linux/uio.h, lib/iov_iter.c): `count` returns the bytes
 * left (iov_iter_count()), `advance` moves the cursor forward by the byte argument (no further
 * than the end), `revert` moves it back (no further than the start). The simulator models an
 * iterator as a cursor over the run's one user buffer.
 */
export interface IterCursorFacet {
  op: 'count' | 'advance' | 'revert';
  iterArg: number;
  /** The byte argument of advance and revert. */
  bytesArg?: number;
}
