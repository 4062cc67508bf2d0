// Bundled examples that carry `// expect: <rule>` marks (as in test/fixtures) produce exactly
// those findings, line for line; their `-fixed.c` twins produce none. (cli.test.ts checks the
// rule of every example through the CLI; this checks the lines.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../../engine/syntax/parser';
import { lowerC } from '../../engine/lower/index';
import { runRules } from '../../engine/rules/run';
import { repoRoot } from '../helpers/repo';

const MARK = /(?:\/\/|\/\*)\s*expect:\s*([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/g;

function marks(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((ln, i) => {
    MARK.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = MARK.exec(ln))) for (const r of m[1].split(',')) out.push(`${i + 1}:${r.trim()}`);
  });
  return [...new Set(out)].sort();
}

const dir = join(repoRoot(), 'examples');
const marked = readdirSync(dir).filter((f) => f.endsWith('-bug.c') && marks(readFileSync(join(dir, f), 'utf8')).length);

test('the seed-rule examples carry marks', () => {
  for (const id of ['fault-under-lock', 'wrprotect-under-read-lock', 'gup-dirty-unlocked', 'gup-vaddr-no-notifier', 'vma-modify-read-lock']) {
    assert.ok(marked.includes(`${id}-bug.c`), `examples/${id}-bug.c with an expect mark`);
  }
});

for (const name of marked) {
  test(`example ${name} and its fixed twin`, async () => {
    const p = await loadCParser();
    for (const [file, want] of [[name, marks(readFileSync(join(dir, name), 'utf8'))], [name.replace(/-bug\.c$/, '-fixed.c'), []]] as const) {
      const text = readFileSync(join(dir, file), 'utf8');
      const got = [...new Set(runRules(lowerC(p, text), text).map((f) => `${f.range.startRow + 1}:${f.rule}`))].sort();
      assert.deepEqual(got, want, file);
    }
  });
}
