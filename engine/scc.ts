// Strongly connected components of a graph on vertices 0..n-1 (Tarjan's algorithm, iterative:
// no recursion, so a call chain or a state graph of any length is fine). Two users: the
// session's same-file call-graph keys (engine/session-keys.ts) and the simulator's search for a
// fair cycle in the explored state graph (engine/sim/explore.ts).

/**
 * Components in the order Tarjan's algorithm completes them: callees (successors) first, that is
 * reverse topological order of the condensation. Roots are tried in vertex order and successors
 * in the order `successors` lists them, so the result is deterministic; members of a component
 * are in the order they leave the stack.
 */
export function stronglyConnected(n: number, successors: (v: number) => ArrayLike<number>): number[][] {
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const comps: number[][] = [];
  let counter = 0;
  const work: { v: number; succ: ArrayLike<number>; e: number }[] = [];
  const enter = (v: number): void => {
    idx[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    work.push({ v, succ: successors(v), e: 0 });
  };
  for (let root = 0; root < n; root++) {
    if (idx[root] !== -1) continue;
    enter(root);
    while (work.length) {
      const top = work[work.length - 1];
      const v = top.v;
      if (top.e < top.succ.length) {
        const w = top.succ[top.e++];
        if (idx[w] === -1) enter(w);
        else if (onStack[w]) low[v] = Math.min(low[v], idx[w]);
        continue;
      }
      work.pop();
      if (work.length) {
        const u = work[work.length - 1].v;
        low[u] = Math.min(low[u], low[v]);
      }
      if (low[v] === idx[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          members.push(w);
        } while (w !== v);
        comps.push(members);
      }
    }
  }
  return comps;
}
