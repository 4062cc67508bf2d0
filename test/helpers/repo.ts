// Where the repository and its fixtures are, from compiled tests (out/test/...) or the sources.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    dir = join(dir, '..');
  }
  throw new Error(`cannot find the repository root from ${__dirname}`);
}

/** Every `.c` file under `dir`, recursively, in sorted order (default: test/fixtures). */
export function fixtureFiles(dir: string = join(repoRoot(), 'test', 'fixtures'), acc: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fixtureFiles(p, acc);
    else if (name.endsWith('.c')) acc.push(p);
  }
  return acc;
}
