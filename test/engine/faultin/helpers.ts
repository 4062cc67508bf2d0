// Shared by the fault-in tests: lower C text, run rules, read fixtures.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { FileIR, FunctionIR } from '../../../engine/ir';
import type { Finding } from '../../../engine/findings';
import { repoRoot } from '../../helpers/repo';

export async function lower(text: string): Promise<{ file: FileIR; byName: Map<string, FunctionIR>; fn: (name: string) => FunctionIR }> {
  const file = lowerC(await loadCParser(), text);
  const byName = new Map(file.functions.map((f) => [f.name, f] as const));
  return {
    file, byName,
    fn: (name) => {
      const f = byName.get(name);
      if (!f) throw new Error(`no function ${name}`);
      return f;
    },
  };
}

export async function rules(text: string, ids: string[], kernel?: string): Promise<Finding[]> {
  const file = lowerC(await loadCParser(), text);
  return runRules(file, text, { rules: ids, ...(kernel ? { kernel } : {}) });
}

export { repoRoot };

export function fixture(rel: string): string {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', rel), 'utf8');
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i + 1;
}
