// Preloaded into the CLI by bench/tree.ts (`node --require`): writes the process's peak RSS (KB,
// worker threads included) to FAULTLINE_BENCH_RSS_FILE when it exits.

import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.FAULTLINE_BENCH_RSS_FILE;
  if (file) try { writeFileSync(file, String(process.resourceUsage().maxRSS)); } catch { /* bench only */ }
});
