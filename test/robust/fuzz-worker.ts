// Child process of scripts/fuzz.mjs: runs blocks of inputs [from, to) of a seed through the three
// faces and reports each one to the parent, which watches this process's CPU time (a hang is an
// input past its CPU budget: the child is killed and a new one resumes after it) and memory. One
// child lives for many blocks (the engine and the parser are loaded once); the parent sends the
// next block after each `end`, and `{ quit: true }` when there is none.

import { readFileSync, writeFileSync } from 'node:fs';
import { createEngine } from '../../engine/engine';
import { FuzzRunner, makeInput } from './fuzz';

interface Job {
  seed: number;
  from: number;
  to: number;
  sizeLimitEvery: number;
}

type Message = Job | { quit: true };

let runner: Promise<FuzzRunner> | undefined;
let queue: Promise<void> = Promise.resolve();

/**
 * Peak resident memory of THIS input, bytes, as the largest peak of its faces: Linux resets a
 * process's peak (VmHWM) to its current resident size when "5" is written to
 * /proc/<pid>/clear_refs, so each face of each input is measured from where the previous one
 * left the process instead of carrying the child's lifetime peak. In real use each face is a
 * process of its own (the CLI, the language server), so before each reset a child that is large
 * collects its garbage: what the previous face left unreferenced is not counted against the next.
 * Without /proc (or where the file cannot be written) undefined: the caller falls back to the
 * lifetime peak (maxRSS).
 */
const peakReset = {
  works: process.platform === 'linux',
  peakSoFar: 0,
  byFace: {} as Record<string, number>,
  face: '',
  /** Record the current face's peak, if a face is being measured. */
  close(): void {
    if (!this.face) return;
    const p = this.read();
    if (p !== undefined) {
      this.byFace[this.face] = p;
      this.peakSoFar = Math.max(this.peakSoFar, p);
    }
    this.face = '';
  },
  /** Close the current face's measurement (if any) and start one for `face`. */
  next(face: string): void {
    if (!this.works) return;
    this.close();
    this.face = face;
    try {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && process.memoryUsage().rss > 256 * 1024 * 1024) gc();
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      this.works = false;
    }
  },
  begin(): void {
    this.peakSoFar = 0;
    this.byFace = {};
    this.face = '';
    this.next('setup');
  },
  /** This input's peak: the largest of its faces' (the next input's begin() resets). */
  peak(): number | undefined {
    if (!this.works) return undefined;
    this.close();
    return this.peakSoFar;
  },
  read(): number | undefined {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  },
};

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

async function runJob(job: Job): Promise<void> {
  runner ??= createEngine().then((engine) => {
    const r = new FuzzRunner(engine);
    r.beforeFace = (face) => peakReset.next(face);
    return r;
  });
  const r = await runner;
  for (let i = job.from; i < job.to; i++) {
    const input = makeInput(job.seed, i, { sizeLimitEvery: job.sizeLimitEvery });
    peakReset.begin();
    process.send!({ t: 'start', i, kind: input.kind, bytes: input.text.length, perInputPeak: peakReset.works });
    const cpu0 = process.cpuUsage();
    let outcome;
    try {
      outcome = await r.run(input);
    } catch (e) {
      outcome = { index: i, kind: input.kind, bytes: input.text.length, problems: [`runner threw: ${(e as Error)?.stack ?? e}`], ms: 0 };
    }
    // maxRss: this input's peak (see peakReset), else the process's peak so far. cpuMs: this
    // input's CPU time (all threads).
    const cpu = cpuMs(process.cpuUsage(cpu0));
    const own = peakReset.peak();
    process.send!({ t: 'done', i, outcome, cpuMs: cpu, rss: process.memoryUsage().rss, maxRss: own ?? process.resourceUsage().maxRSS * 1024, perInputPeak: own !== undefined, faceMiB: Object.fromEntries(Object.entries(peakReset.byFace).map(([k, v]) => [k, Math.round(v / 1048576)])) });
  }
  process.send!({ t: 'end' });
}

process.on('message', (m: Message) => {
  if ('quit' in m) {
    queue = queue.then(async () => {
      if (runner) (await runner).dispose();
      process.exit(0);
    });
    return;
  }
  queue = queue.then(() => runJob(m));
});
