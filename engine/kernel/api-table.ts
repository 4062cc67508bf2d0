// The merged API table. Each file under engine/kernel/api/ contributes a list of entries for
// one family; this is the only lookup everybody uses.

import type { ApiEntry } from './api-schema';
import { gupApis } from './api/gup';
import { mmApis } from './api/mm';
import { ownershipApis } from './api/ownership';

const table = new Map<string, ApiEntry>();

function register(entries: ApiEntry[]): void {
  for (const e of entries) {
    const prev = table.get(e.name);
    // Facets for one function may come from two families (e.g. a GUP call that also takes
    // mmap_lock): merge them instead of letting one file silently win.
    table.set(e.name, prev ? { ...prev, ...e, refs: e.refs ?? prev.refs, uaccess: e.uaccess ?? prev.uaccess,
      faultIn: e.faultIn ?? prev.faultIn, lock: e.lock ?? prev.lock, pagefault: e.pagefault ?? prev.pagefault,
      mem: e.mem ?? prev.mem } : e);
  }
}

register(gupApis);
register(mmApis);
register(ownershipApis);

export function lookupApi(name: string): ApiEntry | undefined {
  return table.get(name);
}

export function allApis(): ApiEntry[] {
  return [...table.values()];
}

/** A workspace may declare semantics for APIs a patch introduces (ARCHITECTURE.md: "It is data"). */
export function extendApiTable(entries: ApiEntry[]): void {
  register(entries);
}
