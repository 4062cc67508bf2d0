// Hover text for a call site's fault window (issue 4): on a uaccess call, a fault_in_*() call or
// the head of a fault-in retry loop — per architecture profile, where the copy can fail (byte
// exact, up to N bytes short of the fault, per 16-byte MTE granule inside a present page), what
// the fault-in probes (one byte per page vs every granule, from which address), and whether the
// two cover each other. Numbers from engine/kernel/profiles.ts and versions.ts (mm/gup.c
// fault_in_*(); include/linux/uaccess.h).

import type { CallStmt, FileIR, FunctionIR } from '../ir';
import type { FaultInEffect, UaccessEffect } from '../kernel/api/mm-schema';
import { lookupApi } from '../kernel/api-table';
import { PROFILES, PROFILE_NAMES, type ArchProfile } from '../kernel/profiles';
import { kernelSwitches, MAINLINE, type KernelSwitches } from '../kernel/versions';
import { FaultInLoopFinder, argSource, keysOf, type FaultInLoop } from '../analysis/faultin/index';

export interface FaultWindowOptions {
  kernel?: string;
  /** The document text: arguments are quoted as written. */
  text?: string;
}

export interface FaultWindowHover {
  /** Markdown, a few lines. */
  markdown: string;
  /** What the hover is about: the call or the loop head. */
  range: import('../ir').SourceRange;
}

function copyWindow(p: ArchProfile, u: UaccessEffect, sw: KernelSwitches): string {
  const w = u.direction === 'to-user' ? p.faultWindow.toUser : p.faultWindow.fromUser;
  const where = w === 0 ? 'stops exactly at the faulting byte' : `may stop up to ${w} bytes before the faulting byte`;
  const progress = w && p.zeroProgressBeforeV514 ? (sw.oneByteProgress ? ', at least 1 byte copied when the first byte is accessible (v5.14+)' : `, and on ${sw.version} (before v5.14) possibly with nothing copied`) : '';
  const sub = p.subpageGranule ? `; an MTE tag mismatch faults per ${p.subpageGranule}-byte granule inside a present page (handle_mm_fault cannot fix it)` : '';
  return `${where}${progress}${sub}`;
}

function probeWords(f: FaultInEffect, p: ArchProfile, sw: KernelSwitches, start: string, len: string): string {
  const perPage = Math.floor(p.pageSize / (p.subpageGranule || p.pageSize));
  const granule = f.probe === 'granule' && p.subpageGranule && sw.subpageProbe;
  const what = f.subpageOnly
    ? (granule ? `reads 1 byte per ${p.subpageGranule}-byte granule (${perPage} per page)` : 'is a no-op (no sub-page faults here)')
    : granule
      ? `probes the first byte of each ${p.pageSize}-byte page, then 1 byte per ${p.subpageGranule}-byte granule (${perPage} per page)`
      : `probes 1 byte per ${p.pageSize}-byte page${p.subpageGranule ? ` (the other ${perPage - 1} granules of a page are never probed)` : ''}`;
  return `${what}, from \`${start}\` for \`${len}\` bytes`;
}

/** Does the fault-in cover the copy's failures on this profile? One short verdict. */
function covers(loop: FaultInLoop | undefined, f: FaultInEffect | undefined, u: UaccessEffect | undefined, p: ArchProfile, sw: KernelSwitches, startsAtStop: boolean | undefined): string {
  if (!f || !u) return '';
  const w = u.direction === 'to-user' ? p.faultWindow.toUser : p.faultWindow.fromUser;
  if (startsAtStop === false) return 'no: the fault-in starts at a fixed point, not where the copy stopped';
  if (p.subpageGranule && !(f.probe === 'granule' && sw.subpageProbe) && f.access !== 'safe-write') return `no: a tag mismatch between probes (up to ${p.pageSize / p.subpageGranule - 1} granules per page) passes the fault-in while the copy keeps failing`;
  if (p.subpageGranule && f.access === 'safe-write') return 'no: a page-table fault-in (fixup_user_fault) never sees a tag mismatch';
  if (w && !sw.oneByteProgress) return `only if it probes at least ${w + 1} bytes from the stop point: before v5.14 the copy may stop ${w} bytes short with nothing copied`;
  void loop;
  return 'yes: the fault-in reaches the page the copy faults on';
}

function profileLines(u: UaccessEffect | undefined, f: FaultInEffect | undefined, sw: KernelSwitches, start: string, len: string, startsAtStop?: boolean, loop?: FaultInLoop): string[] {
  return PROFILE_NAMES.map((n) => {
    const p = PROFILES[n];
    const parts: string[] = [];
    if (u) parts.push(`copy ${copyWindow(p, u, sw)}`);
    if (f) parts.push(`fault-in ${probeWords(f, p, sw, start, len)}`);
    const c = covers(loop, f, u, p, sw, startsAtStop);
    if (c) parts.push(`covers: ${c}`);
    return `- **${n}**: ${parts.join('; ')}`;
  });
}

function callAt(fn: FunctionIR, row: number, col: number): { call: CallStmt; key: string } | undefined {
  for (const b of fn.blocks) for (const [i, s] of b.stmts.entries()) {
    if (s.kind !== 'call') continue;
    const r = s.calleeRange;
    if (r.startRow === row && col >= r.startCol && col <= r.endCol) return { call: s, key: `${b.id}:${i}` };
  }
  return undefined;
}

function startsAtStop(loop: FaultInLoop): boolean | undefined {
  const f = loop.faultIns[0];
  if (!f || f.helper || f.faultIn.iter || !f.user || !loop.progress.length) return undefined;
  return keysOf(f.user).some((k) => loop.advanced.has(k));
}

/**
 * The fault-window hover at a position (0-based row and UTF-16 column): a uaccess or fault_in_*
 * call under the cursor, or the first line of a fault-in retry loop. Undefined elsewhere.
 */
export function faultWindowHover(file: FileIR, row: number, col: number, opts: FaultWindowOptions = {}): FaultWindowHover | undefined {
  const fn = file.functions.find((f) => f.range.startRow <= row && row <= f.range.endRow);
  if (!fn) return undefined;
  const sw = kernelSwitches(opts.kernel ?? MAINLINE);
  const kernelNote = opts.kernel ? ` (kernel ${sw.version})` : '';
  const finder = new FaultInLoopFinder(new Map(file.functions.map((f) => [f.name, f] as const)));
  const loops = finder.loops(fn);
  const at = callAt(fn, row, col);
  const call = at?.call;
  const api = call ? lookupApi(call.callee) : undefined;
  if (call && api?.uaccess) {
    const u = api.uaccess;
    // The copy may sit in a helper whose caller holds the loop (copy_to_sk() in search_ioctl()).
    const loop = loops.find((l) => l.copies.some((c) => c.call === call || c.copyCall === call))
      ?? file.functions.flatMap((g) => (g === fn ? [] : finder.loops(g))).find((l) => l.copies.some((c) => c.copyFn === fn.name));
    const f = loop?.faultIns[0];
    const depths = finder.pagefault.facts(fn).beforeCall.get(at!.key) ?? [];
    const how = u.nofault ? 'page faults never serviced (nofault / atomic copy)'
      : depths.length && depths.every((d) => d > 0) ? 'inside pagefault_disable(): faults not serviced'
        : depths.some((d) => d > 0) ? 'page faults disabled on some paths' : 'page faults serviced (may sleep)';
    const head = `**Fault window of \`${call.callee}()\`** — ${u.direction === 'to-user' ? 'to' : 'from'} user, ${how}${kernelNote}`;
    const fu = f ? argSource(f.faultCall, f.faultIn.userArg, opts.text) : '?';
    const fl = f ? argSource(f.faultCall, f.faultIn.lenArg, opts.text) : '?';
    const lines = profileLines(u, f?.faultIn, sw, fu, fl, loop ? startsAtStop(loop) : undefined, loop);
    const tail = f ? `Retried in ${loop!.label} after \`${f.faultCall.callee}(${fu}, ${fl})\`.` : 'Not in a fault-in retry loop.';
    return { markdown: [head, '', ...lines, '', tail].join('\n'), range: call.range };
  }
  if (call && api?.faultIn) {
    const f = api.faultIn;
    const loop = loops.find((l) => l.faultIns.some((x) => x.call === call));
    const c = loop?.copies[0];
    const ret = (f.returns === 'zero-or-efault' || sw.faultInReturns === 'zero-or-efault') ? 'returns 0 or -EFAULT (all or nothing)' : 'returns the bytes NOT faulted in (page-granular progress)';
    const head = `**Fault-in \`${call.callee}()\`** — ${f.access} access, ${ret}${kernelNote}`;
    const lines = profileLines(c?.uaccess, f, sw, argSource(call, f.userArg, opts.text), argSource(call, f.lenArg, opts.text), loop ? startsAtStop(loop) : undefined, loop);
    const tail = c ? `Guards \`${c.copyCall.callee}()\`${c.helper ? ` (in ${c.helper}())` : ''} in ${loop!.label}.` : 'No copy with page faults disabled in the same loop.';
    return { markdown: [head, '', ...lines, '', tail].join('\n'), range: call.range };
  }
  const loop = loops.find((l) => l.loop.range.startRow === row);
  if (loop) {
    const c = loop.copies[0];
    const f = loop.faultIns[0];
    const head = `**Fault-in retry loop** — copies with \`${c.copyCall.callee}()\`${c.helper ? ` in ${c.helper}()` : ''}, faults in with \`${f.faultCall.callee}(${argSource(f.faultCall, f.faultIn.userArg, opts.text)}, ${argSource(f.faultCall, f.faultIn.lenArg, opts.text)})\`${kernelNote}`;
    const rewind = c.onShortCopy === 'rewinds' ? ` ${c.helper}() moves it back on a short copy (the record is copied again).`
      : c.onShortCopy === 'keeps-progress' ? ` ${c.helper}() keeps the partial progress of a short copy.` : '';
    const progress = (loop.progress.length ? `Progress: ${loop.progress.map((p) => `\`${p}\``).join(', ')}.` : 'No progress variable: every retry starts over.') + rewind;
    const lines = profileLines(c.uaccess, f.faultIn, sw, argSource(f.faultCall, f.faultIn.userArg, opts.text), argSource(f.faultCall, f.faultIn.lenArg, opts.text), startsAtStop(loop), loop);
    return { markdown: [head, '', ...lines, '', progress].join('\n'), range: loop.head };
  }
  return undefined;
}

export interface SimulateLens {
  function: string;
  nameRange: import('../ir').SourceRange;
  /** One per recognised loop: its first line and words ("the while loop at line 12"). */
  loops: { head: import('../ir').SourceRange; label: string }[];
}

/** Functions that hold a fault-in retry loop: where the "Simulate" code lens goes. */
export function simulateLenses(file: FileIR, cancelled?: () => boolean): SimulateLens[] {
  const finder = new FaultInLoopFinder(new Map(file.functions.map((f) => [f.name, f] as const)), cancelled);
  const out: SimulateLens[] = [];
  for (const fn of file.functions) {
    if (cancelled?.()) break;
    const loops = finder.loops(fn);
    if (loops.length) out.push({ function: fn.name, nameRange: fn.nameRange, loops: loops.map((l) => ({ head: l.head, label: l.label })) });
  }
  return out;
}
