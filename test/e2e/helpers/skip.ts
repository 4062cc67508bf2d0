// Skip policy for the editor end-to-end tests (issue 2 point 4, docs/DEVELOPING.md), shared by
// the Neovim and VS Code tests:
//   - CI=true: never skip. A missing editor or browser is a test failure, not a skip.
//   - outside CI: skip only when FAULTLINE_SKIP_E2E=1 asks for it, through node:test's `skip`
//     option so the runner reports the test as skipped, never as passed.
// Everything else runs, and a missing tool fails with a message that says how to install it.

import { spawnSync } from 'node:child_process';

export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * Value for node:test's `skip` option: a reason string when the test must be skipped, `false`
 * when it must run.
 */
export function e2eSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  if (isCI(env)) return false;
  if (env.FAULTLINE_SKIP_E2E === '1') return 'FAULTLINE_SKIP_E2E=1 (editor end-to-end tests skipped on request)';
  return false;
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', cmd], { encoding: 'utf8', env });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/** The path of a required tool; throws (the test fails) with an install hint when it is missing. */
export function requireTool(cmd: string, installHint: string, env: NodeJS.ProcessEnv = process.env): string {
  const p = which(cmd, env);
  if (!p) {
    throw new Error(
      `${cmd} is not installed (${installHint}). Editor end-to-end tests always run in CI; ` +
        'outside CI set FAULTLINE_SKIP_E2E=1 to skip them.',
    );
  }
  return p;
}
