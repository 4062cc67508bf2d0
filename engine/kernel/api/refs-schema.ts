// Facet: what a call does to page references and pins (mm/gup.c;
// Documentation/core-api/pin_user_pages.rst). Argument positions are 0-based indices into the C
// call's arguments.
//
// A table entry WITHOUT a `refs` facet that the GUP analysis sees receiving a tracked page is a
// known non-owning user (kmap, page_address, set_page_dirty...): the reference stays with the
// caller. A callee that is neither in the table nor defined in the same file is treated as
// taking the pages out of sight (no leak reported) — see docs/rules/gup-leak.md "policy".

/** How pages were taken: FOLL_GET (plain reference, put_page) or FOLL_PIN (pin bias, unpin). */
export type RefKind = 'get' | 'pin';

/**
 * Argument positions for one arity of a call whose prototype changed over time (v6.5 removed the
 * `vmas` parameter of get_user_pages / pin_user_pages / *_remote; ~v4.6 dropped tsk/mm).
 */
export interface RefArity {
  pagesArg: number;
  countArg?: number;
  flagsArg?: number;
}

export type RefEffect =
  | {
      op: 'acquire';
      /** 'flags' = decided by FOLL_PIN in the gup_flags argument (`flagsArg`). */
      kind: RefKind | 'flags';
      /** Argument holding the `struct page **` array, or the single `struct page *` (`single`). */
      pagesArg: number;
      /** True when pagesArg is a pointer to the array pointer the call allocates (`_alloc`). */
      allocatesArray?: boolean;
      /** True for get_page / try_get_page: one page, no array. */
      single?: boolean;
      /** Argument with the number of pages asked for. */
      countArg?: number;
      flagsArg?: number;
      /**
       * An int argument asking for writable pages when non-zero, where the call predates gup_flags
       * (`__get_user_pages_fast(start, nr, write, pages)`).
       */
      writeArg?: number;
      /**
       * What the return value says about how much was taken:
       * 'count-or-errno' (rule R: 0..nr, negative only when none),
       * 'count-nonneg' (fast_only: 0..nr), 'bytes-or-errno' (iov_iter_get_pages*: bytes),
       * 'bool' (try_get_page: taken iff true), 'void' (always taken).
       */
      returns: 'count-or-errno' | 'count-nonneg' | 'bytes-or-errno' | 'bool' | 'void';
      /** Per-arity positions, keyed by the number of arguments at the call (overrides the above). */
      byArity?: Record<number, RefArity>;
      /**
       * Set when the call may legitimately take no reference at all even on success (why, in
       * words): iov_iter_extract_pages() only pins user-backed iterators (lib/iov_iter.c).
       */
      mayTakeNothing?: string;
      /**
       * An mm/gup.c internal that takes FOLL_GET or FOLL_PIN references as its caller's gup_flags
       * say: when those flags come from the caller, a release of one fixed kind is right only on
       * a path that tested FOLL_PIN.
       */
      kindFromCaller?: boolean;
    }
  | {
      op: 'release';
      /** Which acquisitions it is the right release for; 'either' releases by a flag argument. */
      kind: RefKind | 'either';
      pagesArg: number;
      single?: boolean;
      countArg?: number;
      /** Marks pages dirty before releasing: under the page lock, or not. */
      dirties?: 'locked' | 'unlocked' | 'by-flag';
      /** The argument is a container (a bio) whose pages are released, not a page array. */
      container?: boolean;
    }
  | {
      /**
       * Removes one mapping of the page (page_remove_rmap() once the PTE is cleared): the
       * reference that mapping held becomes the caller's to drop, besides any it took itself.
       */
      op: 'unmap';
      pagesArg: number;
    }
  | {
      /** The callee takes over the reference (bio_add_page, sg_set_page...). */
      op: 'handoff';
      pagesArg: number;
      /** How the callee reports that it did NOT take the page. */
      failure?: 'returns-zero' | 'returns-nonzero' | 'returns-negative' | 'never';
    };
