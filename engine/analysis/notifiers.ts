// Functions the file registers as mmu-notifier callbacks: every function named in an initializer
// of a notifier ops struct (the ops argument type of the table's `mmu-notifier-register` entries).

import { initTables } from './init-tables';
import { NOTIFIER_OPS_TYPES } from '../kernel/api/vma';
import { fileFact } from './file-facts';

export const notifierCallbacks = fileFact('notifierCallbacks', (text: string): Set<string> => {
  const out = new Set<string>();
  for (const t of initTables(text).values()) {
    if (!NOTIFIER_OPS_TYPES.includes(t.type)) continue;
    for (const fn of t.fields.values()) out.add(fn);
  }
  return out;
});

