// Control-flow graph construction for one function: blocks, edges, the "current block" the
// lowering appends to, loop bookkeeping, and the final clean-up (unreachable blocks dropped,
// loop bodies computed, ids renumbered densely).

import type { Block, Edge, Expr, LoopInfo, SourceRange, Stmt } from '../ir';

export interface PendingLoop {
  info: LoopInfo;
  /** Blocks that were the current block while the loop's syntax was being lowered. */
  syntactic: Set<number>;
  /** The block back edges return to (the header, except for `do` whose body start it is). */
  naturalHeader: number;
  /** Extra back-edge sources known at lowering time (backward gotos). */
  latches: number[];
}

export class CfgBuilder {
  readonly blocks: Block[] = [];
  readonly entry: number;
  readonly exit: number;
  /** The block statements are appended to; null after return/goto/break (unreachable code). */
  private current: number | null;
  private readonly activeLoops: PendingLoop[] = [];
  readonly loops: PendingLoop[] = [];

  constructor() {
    this.entry = this.newBlock();
    this.exit = this.newBlock();
    this.current = this.entry;
  }

  newBlock(label?: string): number {
    const id = this.blocks.length;
    const b: Block = { id, stmts: [], succs: [] };
    if (label !== undefined) b.label = label;
    this.blocks.push(b);
    return id;
  }

  get cur(): number | null {
    return this.current;
  }

  /** Make `id` the block that receives statements (or null: what follows is unreachable). */
  setCur(id: number | null): void {
    this.current = id;
    if (id !== null) for (const l of this.activeLoops) l.syntactic.add(id);
  }

  /**
   * The block to append to. Code after a return/goto is unreachable but still lowered (a label
   * inside it may make it reachable again), into a fresh block with no predecessors.
   */
  here(): number {
    if (this.current === null) this.setCur(this.newBlock());
    return this.current as number;
  }

  emit(stmt: Stmt): void {
    this.blocks[this.here()].stmts.push(stmt);
  }

  edge(from: number, to: number, cond?: Expr, label?: string, range?: SourceRange): void {
    const e: Edge = { to };
    if (cond) e.cond = cond;
    if (label) e.label = label;
    if (range) e.range = range;
    this.blocks[from].succs.push(e);
  }

  /** Edge from the current block (if reachable) to `to`, then continue in `to`. */
  fallInto(to: number, label?: string): void {
    if (this.current !== null) this.edge(this.current, to, undefined, label);
    this.setCur(to);
  }

  /** Jump from the current block (if reachable) to `to`; what follows is unreachable. */
  jump(to: number, label?: string, range?: SourceRange): void {
    if (this.current !== null) this.edge(this.current, to, undefined, label, range);
    this.current = null;
  }

  /** A structured loop whose syntax is being lowered now (blocks made current join its body). */
  beginLoop(info: LoopInfo, naturalHeader: number): PendingLoop {
    const p = this.addLoop(info, naturalHeader);
    this.activeLoops.push(p);
    return p;
  }

  /** A loop discovered afterwards (a backward goto): its body comes from the natural loop only. */
  addLoop(info: LoopInfo, naturalHeader: number): PendingLoop {
    const p: PendingLoop = { info, syntactic: new Set(), naturalHeader, latches: [] };
    this.loops.push(p);
    return p;
  }

  /** How many structured loops are being lowered (to restore after an aborted statement). */
  get activeLoopDepth(): number {
    return this.activeLoops.length;
  }

  abandonLoopsAbove(depth: number): void {
    this.activeLoops.length = Math.min(this.activeLoops.length, depth);
  }

  endLoop(p: PendingLoop): void {
    const i = this.activeLoops.lastIndexOf(p);
    if (i >= 0) this.activeLoops.splice(i, 1);
  }

  /**
   * Empty unlabelled blocks that only fall through (joins after if/else, loop continue points
   * with no update) are bypassed so consumers see fewer, fuller blocks. Loop headers, labels,
   * entry and exit stay. The incoming edge keeps its condition and label.
   */
  private threadEmptyBlocks(): void {
    const n = this.blocks.length;
    const keep = new Uint8Array(n);
    keep[this.entry] = 1;
    keep[this.exit] = 1;
    for (const p of this.loops) {
      keep[p.info.header] = 1;
      keep[p.naturalHeader] = 1;
    }
    const forward = new Int32Array(n).fill(-1);
    let any = false;
    for (const b of this.blocks) {
      if (keep[b.id] || b.stmts.length || b.label !== undefined || b.succs.length !== 1) continue;
      const e = b.succs[0];
      // A jump statement keeps its own block so its edge (`goto out`, `break`) stays visible.
      if (e.cond || e.to === b.id || (e.label && /^(goto|break|continue)\b/.test(e.label))) continue;
      forward[b.id] = e.to;
      any = true;
    }
    if (!any) return;
    const resolve = (to: number): number => {
      let t = to;
      for (let hops = 0; forward[t] >= 0 && hops < n; hops++) t = forward[t];
      return forward[t] >= 0 ? to : t; // a cycle of empty blocks: leave it alone
    };
    for (const b of this.blocks) {
      for (const e of b.succs) {
        if (forward[e.to] < 0) continue;
        const target = resolve(e.to);
        if (!e.label) {
          const via = this.blocks[e.to].succs[0];
          if (via?.label) e.label = via.label;
        }
        e.to = target;
      }
    }
  }

  /**
   * Drop blocks unreachable from the entry (dead code after return, labels never jumped to
   * stay if reachable), renumber densely, and compute each loop's body: the natural loop of
   * its latches united with the blocks lowered inside its syntax (a `while (1)` whose body
   * only leaves by return has no latch but still has a body).
   */
  finish(): { blocks: Block[]; entry: number; exit: number; loops: LoopInfo[] } {
    this.threadEmptyBlocks();
    const n = this.blocks.length;
    const reach = new Uint8Array(n);
    const work = [this.entry];
    reach[this.entry] = 1;
    while (work.length) {
      const b = work.pop() as number;
      for (const e of this.blocks[b].succs) {
        if (!reach[e.to]) {
          reach[e.to] = 1;
          work.push(e.to);
        }
      }
    }
    reach[this.exit] = 1;
    const remap = new Int32Array(n).fill(-1);
    const out: Block[] = [];
    for (let i = 0; i < n; i++) {
      if (!reach[i]) continue;
      remap[i] = out.length;
      out.push(this.blocks[i]);
    }
    for (const b of out) {
      b.id = remap[b.id];
      // Filtered only when an edge goes to a dropped block (rare: most blocks keep all edges).
      let dropped = false;
      for (const e of b.succs) if (remap[e.to] < 0) dropped = true;
      if (dropped) b.succs = b.succs.filter((e) => remap[e.to] >= 0);
      for (const e of b.succs) e.to = remap[e.to];
    }
    // Predecessors, for the natural-loop walk (only functions with loops need them).
    const preds: number[][] = this.loops.length ? out.map(() => []) : [];
    if (this.loops.length) for (const b of out) for (const e of b.succs) preds[e.to].push(b.id);

    const loops: LoopInfo[] = [];
    for (const p of this.loops) {
      const header = remap[p.info.header];
      const natural = remap[p.naturalHeader];
      if (header < 0 || natural < 0) continue; // the whole loop is dead code
      const body = new Set<number>([header, natural]);
      const stack: number[] = [];
      const syntactic = new Set<number>();
      for (const b of p.syntactic) if (remap[b] >= 0) syntactic.add(remap[b]);
      const latches = p.latches.map((l) => remap[l]);
      for (const q of preds[natural]) if (syntactic.has(q)) latches.push(q);
      for (const m of latches) {
        if (m >= 0 && !body.has(m)) {
          body.add(m);
          stack.push(m);
        }
      }
      while (stack.length) {
        const b = stack.pop() as number;
        for (const q of preds[b]) {
          // Ids are in lowering order: a predecessor older than the header is outside the loop
          // (a goto into the body), not part of it.
          if (q > natural && !body.has(q)) {
            body.add(q);
            stack.push(q);
          }
        }
      }
      for (const m of syntactic) body.add(m);
      body.delete(remap[this.exit]);
      p.info.header = header;
      p.info.body = [...body].sort((a, b) => a - b);
      loops.push(p.info);
    }
    return { blocks: out, entry: remap[this.entry], exit: remap[this.exit], loops };
  }
}
