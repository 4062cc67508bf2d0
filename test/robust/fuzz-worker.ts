// Child process of scripts/fuzz.mjs: runs blocks of inputs [from, to) of a seed through the three
// faces and reports each one to the parent, which watches this process's CPU time (a hang is an
// input past its CPU budget: the child is killed and a new one resumes after it) and memory. One
// child lives for many blocks (the engine and the parser are loaded once); the parent sends the
// next block after each `end`, and `{ quit: true }` when there is none.

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

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

async function runJob(job: Job): Promise<void> {
  runner ??= createEngine().then((engine) => new FuzzRunner(engine));
  const r = await runner;
  for (let i = job.from; i < job.to; i++) {
    const input = makeInput(job.seed, i, { sizeLimitEvery: job.sizeLimitEvery });
    process.send!({ t: 'start', i, kind: input.kind, bytes: input.text.length });
    const cpu0 = process.cpuUsage();
    let outcome;
    try {
      outcome = await r.run(input);
    } catch (e) {
      outcome = { index: i, kind: input.kind, bytes: input.text.length, problems: [`runner threw: ${(e as Error)?.stack ?? e}`], ms: 0 };
    }
    // maxRSS: the process's peak so far, KiB. cpuMs: this input's CPU time (all threads).
    process.send!({ t: 'done', i, outcome, cpuMs: cpuMs(process.cpuUsage(cpu0)), rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 });
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
