// Relevance spreading shared by the two batch-mode filters (engine/syntax/blank-irrelevant.ts on
// the text, engine/lower/relevance.ts on the tree): an item is relevant if it names a relevant
// API, and relevance spreads along same-file references both ways (a relevant function's callees
// feed its helper summaries; a caller of a relevant helper may see its pin or release).

export interface RelevanceItem {
  /** Function name, for items that are function definitions. */
  name?: string;
  /** Identifiers the item's text mentions. */
  ids: Set<string>;
  /** In: names a relevant API (or must be kept anyway). Out: relevant after spreading. */
  relevant: boolean;
}

export function spreadRelevance(items: RelevanceItem[]): void {
  const byName = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (!it.name) return;
    const l = byName.get(it.name);
    if (l) l.push(i); else byName.set(it.name, [i]);
  });
  // Undirected same-file reference graph: i -- j when i's text names j.
  const adj: number[][] = items.map(() => []);
  items.forEach((it, i) => {
    for (const id of it.ids) {
      const targets = byName.get(id);
      if (!targets) continue;
      for (const j of targets) if (j !== i) { adj[i].push(j); adj[j].push(i); }
    }
  });
  // Each item enters the work list at most once: linear in the graph's size.
  const work: number[] = [];
  items.forEach((it, i) => { if (it.relevant) work.push(i); });
  while (work.length) {
    const i = work.pop() as number;
    for (const j of adj[i]) if (!items[j].relevant) { items[j].relevant = true; work.push(j); }
  }
}

const IDENT = /[A-Za-z_]\w*/g;

/** Every identifier-shaped word of `s` (keywords included: harmless, they name no function). */
export function identifiersOf(s: string): Set<string> {
  const out = new Set<string>();
  IDENT.lastIndex = 0;
  for (let m = IDENT.exec(s); m; m = IDENT.exec(s)) out.add(m[0]);
  return out;
}
