// GUP semantics the scenarios assume while engine/kernel/api/gup.ts (owned by the GUP rules
// work) does not carry these entries yet. The runner consults the API table first and uses
// these only for names the table has no `refs` facet for — a scenario declaring an API it
// needs, as a workspace may (ARCHITECTURE.md "It is data"). Facts: SEMANTICS.md C.1-C.3.

import type { ApiEntry } from '../../kernel/api-schema';

export const assumedGupApis: ApiEntry[] = [
  {
    name: 'get_user_pages_fast', signature: 'int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h', summary: 'FOLL_GET references on up to nr_pages pages (rule R\').', source: 'SEMANTICS.md C.2',
    refs: { op: 'acquire', kind: 'get', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno' },
  },
  {
    name: 'pin_user_pages_fast', signature: 'int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h', summary: 'FOLL_PIN pins on up to nr_pages pages.', source: 'SEMANTICS.md C.2',
    refs: { op: 'acquire', kind: 'pin', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno' },
  },
  {
    name: 'put_page', signature: 'void put_page(struct page *page)', header: 'include/linux/mm.h',
    summary: 'Drop one page reference (the release for FOLL_GET).', source: 'SEMANTICS.md C.3',
    refs: { op: 'release', kind: 'get', pagesArg: 0, single: true },
  },
  {
    name: 'unpin_user_page', signature: 'void unpin_user_page(struct page *page)', header: 'include/linux/mm.h',
    summary: 'Drop one FOLL_PIN pin.', source: 'SEMANTICS.md C.3',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, single: true },
  },
];
