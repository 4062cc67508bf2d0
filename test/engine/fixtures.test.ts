// THE fixture runner (ARCHITECTURE.md "Tests"): every test/fixtures/**/*.c file is parsed,
// lowered and checked with every rule; the set of (line, rule) findings must equal the inline
// marks `// expect: <rule-id>[, <rule-id>]` (or `/* expect: ... */`). A file without marks must
// produce no finding. One test case per file, with a diff on failure. See test/fixtures/README.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadCParser, type CParser } from '../../engine/syntax/parser';
import { lowerC } from '../../engine/lower/index';
import { runRules } from '../../engine/rules/run';
import { fixtureFiles, repoRoot } from '../helpers/repo';



const MARK = /(?:\/\/|\/\*)\s*expect:\s*([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/g;

/** `line:rule` for every inline mark (1-based lines). */
export function expectedMarks(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((ln, i) => {
    MARK.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = MARK.exec(ln))) for (const r of m[1].split(',')) out.push(`${i + 1}:${r.trim()}`);
  });
  return out.sort();
}

const root = repoRoot();
const fixtureDir = join(root, 'test', 'fixtures');
const files = fixtureFiles(fixtureDir);
let parser: Promise<CParser> | undefined;

test('fixture suite is not empty', () => {
  assert.ok(files.length > 0, 'no fixtures found under test/fixtures');
});

for (const file of files) {
  const name = relative(fixtureDir, file);
  test(`fixture ${name}`, async () => {
    parser ??= loadCParser();
    const p = await parser;
    const text = readFileSync(file, 'utf8');
    const ir = lowerC(p, text);
    const findings = runRules(ir, text);
    const got = findings.map((f) => `${f.range.startRow + 1}:${f.rule}`);
    const gotSet = [...new Set(got)].sort();
    const want = [...new Set(expectedMarks(text))].sort();
    const missing = want.filter((w) => !gotSet.includes(w));
    const extra = gotSet.filter((g) => !want.includes(g));
    if (missing.length || extra.length) {
      const lines = text.split('\n');
      const show = (k: string): string => {
        const [ln, rule] = k.split(':');
        const f = findings.find((x) => x.range.startRow + 1 === Number(ln) && x.rule === rule);
        return `  ${name}:${ln} ${rule}${f ? ` — ${f.message}` : ''}\n      | ${lines[Number(ln) - 1]?.trim() ?? ''}`;
      };
      assert.fail(
        `${name}: findings differ from the inline marks\n` +
          (missing.length ? `missing (marked but not reported):\n${missing.map(show).join('\n')}\n` : '') +
          (extra.length ? `unexpected (reported but not marked):\n${extra.map(show).join('\n')}\n` : ''),
      );
    }
  });
}
