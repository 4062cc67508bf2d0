// Child process of scripts/fuzz.mjs: runs inputs [from, to) of a seed through the three faces and
// reports each one to the parent, which watches the clock (a hang is recorded, the child killed
// and restarted past it) and the memory.

import { createEngine } from '../../engine/engine';
import { FuzzRunner, makeInput } from './fuzz';

interface Job {
  seed: number;
  from: number;
  to: number;
  sizeLimitEvery: number;
}

process.on('message', (job: Job) => {
  void (async () => {
    const engine = await createEngine();
    const runner = new FuzzRunner(engine);
    for (let i = job.from; i < job.to; i++) {
      const input = makeInput(job.seed, i, { sizeLimitEvery: job.sizeLimitEvery });
      process.send!({ t: 'start', i, kind: input.kind, bytes: input.text.length });
      let outcome;
      try {
        outcome = await runner.run(input);
      } catch (e) {
        outcome = { index: i, kind: input.kind, bytes: input.text.length, problems: [`runner threw: ${(e as Error)?.stack ?? e}`], ms: 0 };
      }
      // maxRSS: the process's peak so far, KiB.
      process.send!({ t: 'done', i, outcome, rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 });
    }
    runner.dispose();
    process.send!({ t: 'end' }, () => process.exit(0));
  })();
});
