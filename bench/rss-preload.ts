// Preloaded into the CLI by bench/tree.ts (`node --require`): writes the process's peak RSS (KB)
// and CPU time (user + system, ms), worker threads included, to FAULTLINE_BENCH_RSS_FILE when it
// exits.

import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.FAULTLINE_BENCH_RSS_FILE;
  if (file) try { const u = process.resourceUsage();
    writeFileSync(file, `${u.maxRSS} ${Math.round((u.userCPUTime + u.systemCPUTime) / 1000)}`); } catch { /* bench only */ }
});
