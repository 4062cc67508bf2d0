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
