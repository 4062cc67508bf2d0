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

/**
 * An iteration in rounds whose caller reports each round's result in a field of the iteration
 * state: fs/iomap/iter.c iomap_iter() from v5.15 to v6.14, called as
 * `while ((ret = iomap_iter(&iter, ops)) > 0) iter.processed = body(&iter, ...);` where the body
 * stores the bytes it processed, 0 for none, or a negative errno. What the call returns:
 * - the first call: 1 (a mapping to process) or an errno (->iomap_begin() failed);
 * - after a round that failed (result < 0): that result;
 * - after a round that did nothing (result 0): 0, or an ->iomap_end() errno (the iteration ends),
 *   unless the `remap` flag is set in the state (the mapping went stale): then 1 or an errno;
 * - after a round with progress (result > 0): 1 (length left), 0 (the length used up) or an
 *   errno (->iomap_begin() failed).
 * The simulator lets the adversary pick among these (it does not track the iteration's length),
 * and clears the result field and the remap flag when it hands out a new round (1), as the
 * kernel does. It reads the result only when the function that makes the call stores into that
 * field itself; otherwise the progress is reported where the model cannot see it (a helper
 * writing through its pointer, or v6.15+, where the body calls iomap_iter_advance() and the
 * field became `status`), and every later call is 1, 0 or an errno as before.
 */
export interface RoundsFacet {
  /** The iteration state (`struct iomap_iter *`). */
  iterArg: number;
  /** The field of the state the caller stores a round's result in (`processed`). */
  resultField: string;
  /** A flag in a field of the state (a dotted path) that makes a round without progress go on. */
  remap?: { field: string; flag: string };
}
