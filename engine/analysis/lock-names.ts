// How a held lock is named in the terms of the C under review, for messages and simulator
// traces (issue 9): `inode->i_rwsem` for inode_lock(inode), `mm->mmap_lock` for
// mmap_read_lock(mm), "the glock of rc->holder" for a gfs2 holder. The spelling per class is the
// API table's (FaultLockFacet.written); this file only applies it.

import { lookupApi } from '../kernel/api-table';
import { RWSEM_CLASS_BY_FIELD } from '../kernel/api/locks';
import type { FaultLockFacet } from '../kernel/api/seed-schema';
import type { HeldLock } from './locksets';

/** The top-level arguments of a call written `f(a, b(c, d))`. */
function callArgs(text: string): string[] {
  const open = text.indexOf('(');
  if (open < 0 || !text.endsWith(')')) return [];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text.slice(open + 1, -1)) {
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; continue; }
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The held lock as the C names it: the table's spelling for the class (`inode->i_rwsem`), else "the <class> of <instance>". */
export function lockWritten(h: Pick<HeldLock, 'cls' | 'key' | 'site'>, facet: FaultLockFacet | undefined, lockText?: string): string {
  if (h.key === h.cls) {
    // Unnamed instance (mmap_read_lock(mm)): the lock call's argument, spelled the table's way.
    const arg = lookupApi(h.site.callee)?.lock?.arg ?? 0;
    const inst = lockText ? callArgs(lockText)[arg]?.replace(/^&/, '') : undefined;
    if (!inst || !facet?.written || !/^[A-Za-z_][\w.>-]*$/.test(inst)) return h.cls;
    return lockWritten({ ...h, key: inst }, facet);
  }
  if (facet?.written) {
    const field = facet.written.replace('$', '');
    // The instance already names the field (`&mm->mmap_sem`, `&inode->i_rwsem`): as written.
    if (/->\w+$/.test(h.key) && RWSEM_CLASS_BY_FIELD[h.key.slice(h.key.lastIndexOf('->') + 2)] === h.cls) return h.key;
    return `${h.key}${field}`;
  }
  return `the ${h.cls} of ${h.key}`;
}
