// The merged API table. Each file under engine/kernel/api/ contributes a list of entries for
// one family; this is the only lookup everybody uses.

import type { ApiEntry, FacetEntry } from './api-schema';
import { gupApis } from './api/gup';
import { mmApis } from './api/mm';
import { lockApis, lockFacets } from './api/locks';
import { wrprotectApis, wrprotectFacets } from './api/wrprotect';
import { vmaApis, vmaFacets } from './api/vma';
import { ownershipApis } from './api/ownership';
import { valueApis } from './api/values';

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
register(lockApis);
register(wrprotectApis);
register(vmaApis);
register(ownershipApis);
register(valueApis);

/** Facet entries whose function no family defines (should stay empty). */
export const unattachedFacets: string[] = [];

/** Facets added to entries another family defines (the entry's text stays the family's). */
function registerFacets(facets: FacetEntry[]): void {
  for (const f of facets) {
    const prev = table.get(f.name);
    // Another family may rename or drop an entry: its facets then have nothing to attach to
    // (test/engine/rules/seed-rules.test.ts checks that every facet found its entry).
    if (!prev) { unattachedFacets.push(f.name); continue; }
    table.set(f.name, { ...prev, ...f, name: prev.name });
  }
}

registerFacets([...lockFacets, ...wrprotectFacets, ...vmaFacets]);

export function lookupApi(name: string): ApiEntry | undefined {
  return table.get(name);
}

export function allApis(): ApiEntry[] {
  return [...table.values()];
}

let generation = 0;

/** Changes whenever the table does (extendApiTable): what is derived from it is built again. */
export function apiTableGeneration(): number {
  return generation;
}

/** A workspace may declare semantics for APIs a patch introduces (ARCHITECTURE.md: "It is data"). */
export function extendApiTable(entries: ApiEntry[]): void {
  register(entries);
  generation++;
}
