// The record of the seed rules' checks on real kernel code before and after known fixes
// (test/realcode/seed-before-after.json: references only — path, function, version, tree and
// commit — never code). CI has no copy of those trees, so this does not re-run them; it checks that
// the record is one: every seed rule has a firing and a silent check, every result agrees with its
// expectation, every entry says what was checked where, and every entry is in the "Checked on real
// code" section of its rule's docs page, so the page and the record cannot drift apart.
// Re-run the checks with `node scripts/eval-real.mjs --cases DIR` or `faultline check --kernel V`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo';

/** The rules issue 9 traced to the seed threads: each needs a "fire" and a "silent" check on record. */
const SEED_RULES = ['fault-under-lock', 'wrprotect-under-read-lock', 'gup-dirty-unlocked', 'gup-vaddr-no-notifier', 'vma-modify-read-lock'];

/** A function entry naming no single function: the whole file was checked. */
const WHOLE_FILE = '(whole file)';

interface Entry {
  rule: string;
  path: string;
  /** One function, several joined by ", ", or WHOLE_FILE. */
  function: string;
  version: string;
  /** owner/name of the public repository checked. */
  tree: string;
  /** The commit of that tree that was checked. */
  commit: string;
  expect: 'fire' | 'silent';
  /** "fire", "fire (N)", "fire (profile)" or "silent": what the CLI reported. */
  got: string;
  /** The rule whose docs page records the check, when it is not the entry's own (a second rule's finding in the same file). */
  docs?: string;
}

const root = repoRoot();
const recordPath = join(root, 'test', 'realcode', 'seed-before-after.json');

/** The "Checked on real code" section of a rule's docs page, or undefined (no page, no section). */
function checkedSection(rule: string): string | undefined {
  const page = join(root, 'docs', 'rules', `${rule}.md`);
  if (!existsSync(page)) return undefined;
  const m = /^## Checked on real code\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readFileSync(page, 'utf8'));
  return m?.[1];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `word` in `text` as a token of its own (v5.3 is not v5.3-rc1, gntdev_put_pages not gntdev_put_pages_all). */
const mentions = (text: string, word: string): boolean => new RegExp(`(?<![\\w.\\-/])${escape(word)}(?![\\w.\\-/])`).test(text);

/** What is wrong with a record (empty when it is a record). `sectionOf` gives a rule's docs section. */
export function recordProblems(record: unknown, sectionOf: (rule: string) => string | undefined = checkedSection): string[] {
  const out: string[] = [];
  if (!Array.isArray(record) || record.length === 0) return ['the record is not a non-empty array'];
  record.forEach((raw: Partial<Entry>, i) => {
    const at = `entry ${i} (${raw.rule ?? '?'} ${raw.path ?? '?'} ${raw.function ?? '?'} ${raw.version ?? '?'})`;
    for (const k of ['rule', 'path', 'function', 'version', 'tree', 'commit', 'expect', 'got'] as const) {
      if (typeof raw[k] !== 'string' || !raw[k]!.trim()) out.push(`${at}: no ${k}`);
    }
    // References only: a value with a line break or a brace is a paste of code, not a reference.
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && /[\n{}]/.test(v)) out.push(`${at}: ${k} looks like code`);
    if (raw.expect !== 'fire' && raw.expect !== 'silent') out.push(`${at}: expect is neither "fire" nor "silent"`);
    const got = /^(fire|silent)\b/.exec(raw.got ?? '')?.[1];
    if (!got) out.push(`${at}: got "${raw.got}" says neither fire nor silent`);
    else if (got !== raw.expect) out.push(`${at}: got "${raw.got}" but expected "${raw.expect}"`);
    if (raw.commit !== undefined && !/^[0-9a-f]{12,40}$/.test(raw.commit)) out.push(`${at}: commit "${raw.commit}" is not a commit id`);
    if (raw.tree !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(raw.tree)) out.push(`${at}: tree "${raw.tree}" is not owner/name`);
    if (raw.version !== undefined && !/^v\d+\.\d+/.test(raw.version)) out.push(`${at}: version "${raw.version}" is not a kernel version`);
    if (!raw.rule) return;
    const page = raw.docs ?? raw.rule;
    const section = sectionOf(page);
    if (section === undefined) {
      out.push(`${at}: docs/rules/${page}.md has no "Checked on real code" section`);
      return;
    }
    // Recorded on another rule's page: that page must say which rule fired.
    if (raw.docs && raw.docs !== raw.rule && !mentions(section, raw.rule)) out.push(`${at}: docs/rules/${page}.md does not name ${raw.rule}`);
    const names = raw.function === WHOLE_FILE ? [] : (raw.function ?? '').split(/,\s*/);
    if (raw.function === WHOLE_FILE && !/whole file/.test(section)) out.push(`${at}: docs/rules/${page}.md records no whole-file check`);
    for (const n of names) {
      if (!/^[A-Za-z_]\w*$/.test(n)) out.push(`${at}: function "${n}" is not a C identifier`);
      else if (!mentions(section, n)) out.push(`${at}: docs/rules/${page}.md "Checked on real code" does not name ${n}`);
    }
    for (const k of ['path', 'version', 'tree'] as const) {
      const v = raw[k];
      if (v && !mentions(section, v)) out.push(`${at}: docs/rules/${page}.md "Checked on real code" does not name ${k} ${v}`);
    }
  });
  for (const rule of SEED_RULES) {
    for (const e of ['fire', 'silent']) {
      if (!record.some((r: Partial<Entry>) => r.rule === rule && r.expect === e)) out.push(`${rule}: no "${e}" check on record`);
    }
  }
  return out;
}

const record = JSON.parse(readFileSync(recordPath, 'utf8')) as Entry[];

test('seed-before-after.json is a record of real-code checks that the rule pages list', () => {
  assert.deepEqual(recordProblems(record), []);
});

// The checker must be able to fail: each change below breaks one promise of the record.
test('the record check catches a result that disagrees, a missing reference, an entry the docs lack, a rule without a silent check', () => {
  const firing = record.findIndex((e) => e.expect === 'fire' && !e.docs);
  const change = (i: number, patch: Partial<Entry> | ((e: Entry) => Partial<Entry>)): Entry[] =>
    record.map((e, j) => (j === i ? { ...e, ...(typeof patch === 'function' ? patch(e) : patch) } : e));
  const cases: [string, unknown, RegExp][] = [
    ['got disagrees', change(firing, { got: 'silent' }), /got "silent" but expected "fire"/],
    ['no commit', change(firing, { commit: '' }), /no commit/],
    ['no tree', change(firing, { tree: '' }), /no tree/],
    ['function the docs lack', change(firing, (e) => ({ function: `${e.function.split(', ')[0]}_elsewhere` })), /does not name/],
    ['path the docs lack', change(firing, (e) => ({ path: `${e.path}.orig` })), /does not name path/],
    ['a rule without a silent check', record.filter((e) => !(e.rule === 'vma-modify-read-lock' && e.expect === 'silent')), /vma-modify-read-lock: no "silent" check/],
  ];
  for (const [what, bad, want] of cases) {
    const p = recordProblems(bad);
    assert.ok(p.some((x) => want.test(x)), `${what}: ${JSON.stringify(p)}`);
  }
});
