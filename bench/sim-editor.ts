// The editor while simulations run (issue 8): the real server over stdio on a file with eight
// simulated fault-in loops. Measures hover latency (p95; target <= 50 ms) while the pool works,
// edit -> first diagnostics (target <= 20 ms) while the pool works, and when the live-lock
// findings arrive. Prints figures; asserts nothing.

import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LspClient } from '../test/server/lsp-client';

/** Eight retry loops in the search_ioctl shape (each live-locks on arm64-mte), our own code. */
export function eightLoops(): string {
  const out: string[] = ['/* eight simulated loops: faultline bench */', ''];
  for (let i = 0; i < 8; i++) {
    out.push(`static long demo_dump_${i}(struct demo_index *ix, char __user *ubuf, size_t size)
{
	unsigned long off = 0;
	long ret;

	if (size < ${256 + 64 * i})
		return -EINVAL;
	while (1) {
		ret = -EFAULT;
		if (fault_in_writeable(ubuf + off, size - off))
			break;
		ret = demo_index_next(ix, ${i});
		if (ret <= 0)
			break;
		if (copy_to_user_nofault(ubuf + off, ix, 32))
			continue;
		off += 32;
		if (off + 32 > size)
			break;
	}
	return ret;
}
`);
  }
  return out.join('\n');
}

/**
 * Faults under locks and write-protects under mmap_read_lock, our own code: six copies to user
 * memory under a filesystem lock or mmap_lock (fault-under-lock) and two soft-dirty resets that
 * write-protect under mmap_read_lock (wrprotect-under-read-lock). Each finding needs a simulation.
 */
export function lockedCopies(): string {
  const out: string[] = ['/* simulated faults under locks: faultline bench */', ''];
  for (let i = 0; i < 3; i++) {
    out.push(`static ssize_t demo_read_rec_${i}(struct demo_inode *di, char __user *ubuf, size_t len)
{
	struct gfs2_holder gh;
	ssize_t ret;

	gfs2_holder_init(di->i_gl, LM_ST_SHARED, 0, &gh);
	ret = gfs2_glock_nq(&gh);
	if (ret)
		goto out_uninit;
	if (copy_to_user(ubuf, di->rec + ${i * 64}, len))
		ret = -EFAULT;
	else
		ret = len;
	gfs2_glock_dq(&gh);
out_uninit:
	gfs2_holder_uninit(&gh);
	return ret;
}
`);
    out.push(`static int demo_report_${i}(struct mm_struct *mm, unsigned long __user *out)
{
	int ret;

	mmap_${i === 2 ? 'write' : 'read'}_lock(mm);
	ret = put_user(mm->total_vm + ${i}, out);
	mmap_${i === 2 ? 'write' : 'read'}_unlock(mm);
	return ret;
}
`);
  }
  for (let i = 0; i < 2; i++) {
    out.push(`static int demo_track_pte_${i}(pmd_t *pmd, unsigned long addr, unsigned long end, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;
	pte_t *pte, ptent;
	spinlock_t *ptl;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		ptent = ptep_get(pte);
		if (!pte_present(ptent))
			continue;
		ptent = pte_wrprotect(ptent);
		ptent = pte_clear_soft_dirty(ptent);
		set_pte_at(vma->vm_mm, addr, pte, ptent);
	}
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

static const struct mm_walk_ops demo_walk_ops_${i} = {
	.pmd_entry = demo_track_pte_${i},
};

static ssize_t demo_reset_${i}(struct mm_struct *mm)
{
	mmap_read_lock(mm);
	inc_tlb_flush_pending(mm);
	walk_page_range(mm, 0, TASK_SIZE, &demo_walk_ops_${i}, NULL);
	flush_tlb_mm(mm);
	dec_tlb_flush_pending(mm);
	mmap_read_unlock(mm);
	return 0;
}
`);
  }
  return out.join('\n');
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });

/** A file whose findings each need a simulation, and how to see them arrive. */
interface EditorSimCase {
  name: string;
  text: string;
  uri: string;
  /** The simulated rules: their findings arrive when the pool answers. */
  rules: string[];
  /** Findings of those rules once every simulation answered. */
  expected: number;
  /** Hover on the first line containing this text. */
  hoverOn: string;
}

interface EditorSimFigures {
  firstDiagnosticsMs: number;
  /** Simulated findings at first diagnostics (0: nothing waited for a simulation). */
  simulatedAtFirst: number;
  simulatedAfterMs: number;
  simulated: number;
  hoverP95: number;
  hoverMax: number;
  hovers: number;
  editFirstDiagMedian: number;
  editFirstDiagP95: number;
  edits: number;
  /** Edit -> diagnostics with every simulation answered (nothing running). */
  controlEditMedian: number;
}

async function measureEditorSim(k: EditorSimCase): Promise<EditorSimFigures> {
  const { text, uri } = k;
  const c = new LspClient();
  try {
    await c.initialize({ debounceMs: 0 });
    let since = c.received.length;
    const t0 = performance.now();
    c.open(uri, 'c', text, 1);
    const first = await c.diagnostics(uri, since, () => true, 60000);
    const firstDiagnosticsMs = performance.now() - t0;
    const simulatedAtFirst = first.filter((d: any) => k.rules.includes(d.code)).length;
    const simCount = (m: any) => (m.params?.diagnostics ?? []).filter((d: any) => k.rules.includes(d.code)).length;
    // Hovers while the pool simulates, until every simulated finding arrived.
    const hovers: number[] = [];
    let simulatedAfterMs = NaN;
    let simulated = 0;
    const line = text.split('\n').findIndex((l) => l.includes(k.hoverOn));
    const character = Math.max(0, text.split('\n')[line].indexOf(k.hoverOn));
    while (performance.now() - t0 < 120000) {
      const h0 = performance.now();
      await c.request('textDocument/hover', { textDocument: { uri }, position: { line, character } });
      hovers.push(performance.now() - h0);
      const last = c.received.slice(since).filter((m: any) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri).pop();
      simulated = last ? simCount(last) : 0;
      if (simulated >= k.expected) { simulatedAfterMs = performance.now() - t0; break; }
      await new Promise((r) => setTimeout(r, 20));
    }
    // Ten edits at `at` (insert a comment line, then remove it), each timed to the first
    // diagnostics of its version; `hover` also times a hover after each.
    let version = 1;
    const timedEdits = async (at: number, hover: boolean): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        version++;
        since = c.received.length;
        const e0 = performance.now();
        c.notify('textDocument/didChange', {
          textDocument: { uri, version },
          contentChanges: [i % 2 === 0
            ? { range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: '/* edit */\n' }
            : { range: { start: { line: at, character: 0 }, end: { line: at + 1, character: 0 } }, text: '' }],
        });
        const v = version;
        await c.waitFor((m: any) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 30000, since);
        times.push(performance.now() - e0);
        if (hover) {
          const h0 = performance.now();
          await c.request('textDocument/hover', { textDocument: { uri }, position: { line, character } });
          hovers.push(performance.now() - h0);
        }
      }
      return times;
    };
    // Edits at the top (every range shifts: every simulation runs again) -> first diagnostics.
    const edits = await timedEdits(1, true);
    // Control: the same edits once every simulation is answered (an edit at the end shifts no
    // range, so every answer stays valid): what edit -> diagnostics costs on this machine now.
    await new Promise((r) => setTimeout(r, 200));
    const control = await timedEdits(text.split('\n').length - 1, false);
    return {
      controlEditMedian: percentile(control, 50),
      firstDiagnosticsMs, simulatedAtFirst, simulatedAfterMs, simulated, hoverP95: percentile(hovers, 95), hoverMax: Math.max(...hovers), hovers: hovers.length,
      editFirstDiagMedian: percentile(edits, 50), editFirstDiagP95: percentile(edits, 95), edits: edits.length,
    };
  } finally {
    await c.shutdown();
  }
}

export async function benchEditorSim(): Promise<void> {
  const cases: EditorSimCase[] = [
    { name: '8 simulated loops (uaccess-livelock)', text: eightLoops(), uri: 'file:///bench/eight-loops.c', rules: ['uaccess-livelock'], expected: 8, hoverOn: 'fault_in_writeable' },
    {
      name: '6 faults under locks + 2 write-protects under mmap_read_lock (fault-under-lock, wrprotect-under-read-lock)',
      text: lockedCopies(), uri: 'file:///bench/locked-copies.c', rules: ['fault-under-lock', 'wrprotect-under-read-lock'], expected: 8, hoverOn: 'copy_to_user',
    },
  ];
  for (const k of cases) await benchEditorSimCase(k);
}

async function benchEditorSimCase(k: EditorSimCase): Promise<void> {
  const f = await measureEditorSim(k);
  console.log(`editor with ${k.name} (real server over stdio, simulation pool)`);
  console.log(`  open -> first diagnostics: ${fmt(f.firstDiagnosticsMs)} ms (${f.simulatedAtFirst} simulated findings in them); ${f.simulated}/${k.expected} simulated findings after ${fmt(f.simulatedAfterMs)} ms`);
  console.log(`  hover while simulations run: p95 ${fmt(f.hoverP95, 2)} ms, max ${fmt(f.hoverMax, 2)} ms over ${f.hovers} hovers (target p95 <= 50 ms)`);
  console.log(`  edit -> first diagnostics while simulations run: median ${fmt(f.editFirstDiagMedian, 2)} ms, p95 ${fmt(f.editFirstDiagP95, 2)} ms over ${f.edits} edits (target <= 20 ms)`);
  console.log(`  control, nothing simulating: edit -> diagnostics median ${fmt(f.controlEditMedian, 2)} ms (machine load: ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
}

if (require.main === module) void benchEditorSim();
