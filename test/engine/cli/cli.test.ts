import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../../engine/cli/main';
import { allRules } from '../../../engine/rules/registry';
import { findSarifSchema, sarifValidator } from './sarif-schema';

// out/test/engine/cli -> repository root
const ROOT = join(__dirname, '..', '..', '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const BIN = join(ROOT, 'bin', 'faultline');

interface Run { code: number; out: string; err: string }

async function run(argv: string[], opts: { stdin?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (s) => { out += s; },
    stderr: (s) => { err += s; },
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    cwd: opts.cwd ?? ROOT,
    env: { ...(opts.env ?? {}) },
  });
  return { code, out, err };
}

const BUG_SNIPPET = [
  'static long grab(unsigned long start, unsigned long nr)',
  '{',
  '\tstruct page *pages[16];',
  '\tlong got, i;',
  '',
  '\tgot = pin_user_pages_fast(start, nr, FOLL_WRITE, pages);',
  '\tif (got <= 0)',
  '\t\treturn got;',
  '\tfor (i = 0; i < got; i++)',
  '\t\tput_page(pages[i]);',
  '\treturn got;',
  '}',
  '',
].join('\n');

const CLEAN_SNIPPET = BUG_SNIPPET.replace('\tfor (i = 0; i < got; i++)\n\t\tput_page(pages[i]);', '\tunpin_user_pages(pages, got);');

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A scratch directory, removed when the file's tests end. */
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-cli-'));
  made.push(d);
  return d;
}

/** Rule id a bundled example is about, from its file name (`gup-leak-bug.c` -> gup-leak). */
function exampleRule(name: string): string | undefined {
  const m = /^(.*)-(bug|fixed)\.c$/.exec(name);
  return m ? m[1] : undefined;
}

test('--help, --version, no command, unknown command', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /faultline check \[--format text\|json\|sarif\|checkpatch\]|check \[--format text\|json\|sarif\|checkpatch\]/);
  const v = await run(['--version']);
  assert.equal(v.code, 0);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(v.out.trim(), `faultline ${pkg.version}`);
  assert.equal((await run([])).code, 2);
  const u = await run(['frobnicate']);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown command 'frobnicate'/);
  const bad = await run(['check', '--format', 'xml', 'examples']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown format 'xml'/);
  const arch = await run(['check', '--arch', 'sparc64', 'examples']);
  assert.equal(arch.code, 2);
  assert.match(arch.err, /unknown architecture profile 'sparc64' \(use all, .*arm64-mte/);
  assert.equal((await run(['check', '--arch', 'arm64-mte', '--kernel', '6.1', 'examples/gup-leak-fixed.c'])).code, 0);
  const kernel = await run(['check', '--kernel', 'latest', 'examples']);
  assert.equal(kernel.code, 2);
  assert.match(kernel.err, /--kernel wants a version/);
  const none = await run(['check']);
  assert.equal(none.code, 2);
  assert.match(none.err, /no PATH/);
});

test('check examples/: every bug example reports its rule, every fixed twin is clean', async () => {
  const r = await run(['check', '--format', 'json', 'examples']);
  assert.equal(r.code, 1, r.err);
  const diags = JSON.parse(r.out).diagnostics as { file: string; rule: string; line: number }[];
  const names = readdirSync(EXAMPLES).filter((n) => n.endsWith('.c')).sort();
  assert.ok(names.length >= 8);
  const ruleIds = new Set(allRules.map((x) => x.meta.id));
  for (const name of names) {
    const rule = exampleRule(name)!;
    assert.ok(ruleIds.has(rule), `${name} names a registered rule`);
    const here = diags.filter((d) => d.file === join('examples', name));
    if (name.endsWith('-bug.c')) assert.ok(here.some((d) => d.rule === rule), `${name}: expected ${rule}, got ${JSON.stringify(here)}`);
    else assert.deepEqual(here, [], `${name} must be clean`);
  }
  const patch = diags.filter((d) => d.file.endsWith('.patch'));
  assert.ok(patch.length >= 1, 'the example patch introduces a finding');
  const patchText = readFileSync(join(EXAMPLES, 'gup-leak-introduced.patch'), 'utf8').split('\n');
  for (const d of patch) assert.ok(patchText[d.line - 1].startsWith('+'), `patch finding on an added line: ${patchText[d.line - 1]}`);
});

test('text and checkpatch formats on a file; columns 1-based', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'grab.c'), BUG_SNIPPET);
  const t = await run(['check', 'grab.c'], { cwd: dir });
  assert.equal(t.code, 1);
  assert.match(t.out, /^grab\.c:10:3: error: .* \[gup-release-mismatch\]$/m);
  assert.match(t.out, /^ {2}grab\.c:6:8: note: /m);
  const c = await run(['check', '--format=checkpatch', 'grab.c'], { cwd: dir });
  assert.equal(c.code, 1);
  for (const line of c.out.trimEnd().split('\n')) assert.match(line, /^grab\.c:\d+: (ERROR|WARNING|CHECK):[a-z-]+: \S/);
  assert.match(c.out, /^grab\.c:10: ERROR:gup-release-mismatch: /m);
  writeFileSync(join(dir, 'clean.c'), CLEAN_SNIPPET);
  const ok = await run(['check', 'clean.c'], { cwd: dir });
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(ok.out, '');
});

test('--rule selects rules; an unknown id exits 2 listing the valid ids', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'grab.c'), BUG_SNIPPET);
  const only = await run(['check', '--rule', 'gup-leak', 'grab.c'], { cwd: dir });
  assert.equal(only.code, 0, only.out);
  const two = await run(['check', '--rule', 'gup-leak,gup-release-mismatch', 'grab.c'], { cwd: dir });
  assert.equal(two.code, 1);
  const bad = await run(['check', '--rule', 'gup-leak,no-such-rule', 'grab.c'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown rule id 'no-such-rule'/);
  for (const r of allRules) assert.ok(bad.err.includes(r.meta.id));
});

test('stdin: C text and a patch are sniffed; findings are reported against <stdin>', async () => {
  const c = await run(['check', '-'], { stdin: BUG_SNIPPET });
  assert.equal(c.code, 1, c.err);
  assert.match(c.out, /^<stdin>:10:3: error: .*\[gup-release-mismatch\]/m);
  const patch = readFileSync(join(EXAMPLES, 'gup-leak-introduced.patch'));
  const p = await run(['check', '--format', 'json', '-'], { stdin: patch });
  assert.equal(p.code, 1, p.err);
  const d = JSON.parse(p.out).diagnostics;
  assert.ok(d.length >= 1);
  assert.equal(d[0].file, '<stdin>');
  assert.equal(d[0].target.file, 'drivers/misc/frob.c');
  const empty = await run(['check', '-'], { stdin: '' });
  assert.equal(empty.code, 0);
});

test('directories are walked in sorted order, skipping hidden dirs, node_modules and other extensions', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'b'));
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, '.git'));
  mkdirSync(join(dir, 'node_modules'));
  writeFileSync(join(dir, 'b', 'two.c'), BUG_SNIPPET);
  writeFileSync(join(dir, 'a', 'one.c'), BUG_SNIPPET);
  writeFileSync(join(dir, 'a', 'notes.txt'), BUG_SNIPPET);
  writeFileSync(join(dir, '.git', 'hidden.c'), BUG_SNIPPET);
  writeFileSync(join(dir, 'node_modules', 'dep.c'), BUG_SNIPPET);
  writeFileSync(join(dir, 'a', 'x.h'), 'struct x { int a; };\n');
  symlinkSync(dir, join(dir, 'a', 'loop')); // a cycle must not hang the walk
  const r = await run(['check', '--format', 'json', '--summary', '.'], { cwd: dir });
  assert.equal(r.code, 1, r.err);
  const files = [...new Set(JSON.parse(r.out).diagnostics.map((d: { file: string }) => d.file))];
  assert.deepEqual(files, ['a/one.c', 'b/two.c']);
  assert.match(r.err, /^3 files checked, 2 with findings/m);
});

test('binary, non-UTF-8, unreadable, missing and huge inputs: one-line error naming each, the rest still checked, exit 2', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bug.c'), BUG_SNIPPET);
  writeFileSync(join(dir, 'blob.c'), Buffer.from([0x69, 0x6e, 0x74, 0x00, 0x01, 0x02]));
  writeFileSync(join(dir, 'latin1.c'), Buffer.concat([Buffer.from('/* caf'), Buffer.from([0xe9]), Buffer.from(' */\nint x;\n')]));
  writeFileSync(join(dir, 'locked.c'), CLEAN_SNIPPET);
  chmodSync(join(dir, 'locked.c'), 0o000);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const r = await run(['check', 'blob.c', 'latin1.c', 'locked.c', 'missing.c', 'bug.c'], { cwd: dir });
  assert.equal(r.code, 2);
  const errs = r.err.trimEnd().split('\n');
  assert.ok(errs.some((l) => /^faultline: blob\.c: binary file \(NUL byte at line 1, column 4\)/.test(l)), r.err);
  assert.ok(errs.some((l) => /^faultline: latin1\.c: not valid UTF-8 \(byte 0xe9 at line 1, column 7\)/.test(l)), r.err);
  assert.ok(errs.some((l) => /^faultline: missing\.c: no such file or directory$/.test(l)), r.err);
  if (!root) assert.ok(errs.some((l) => /^faultline: locked\.c: permission denied/.test(l)), r.err);
  assert.match(r.out, /^bug\.c:10:3: error: /m, 'the readable file is still checked');
  const big = await run(['check', 'bug.c'], { cwd: dir, env: { FAULTLINE_MAX_FILE_BYTES: '64' } });
  assert.equal(big.code, 2);
  assert.match(big.err, /^faultline: bug\.c: file too large \(\d+ bytes; the limit is 64 bytes/m);
  const bigStdin = await run(['check', '-'], { stdin: BUG_SNIPPET, env: { FAULTLINE_MAX_FILE_BYTES: '64' } });
  assert.equal(bigStdin.code, 2);
  assert.match(bigStdin.err, /^faultline: <stdin>: input too large/m);
});

test('--summary: findings, then a count per rule and the files checked; the exit status is not changed by it', async () => {
  const r = await run(['check', '--summary', 'examples']);
  assert.equal(r.code, 1, r.err);
  assert.equal((await run(['check', '--summary', '--exit-zero', 'examples'])).code, 0);
  assert.equal((await run(['check', '--exit-zero', 'examples'])).code, 0);
  for (const rule of allRules) assert.match(r.out, new RegExp(`^${rule.meta.id}: \\d+ findings?$`, 'm'));
  const n = readdirSync(EXAMPLES).filter((x) => /\.(c|patch)$/.test(x)).length;
  assert.match(r.out, new RegExp(`^${n} files checked, \\d+ with findings`, 'm'));
  const withError = await run(['check', '--summary', 'examples', 'no-such-dir']);
  assert.equal(withError.code, 2);
  assert.equal((await run(['check', '--summary', '--exit-zero', 'examples', 'no-such-dir'])).code, 2, '--exit-zero keeps input errors');
});

test('usage errors: one line saying what is wrong and a hint, never the whole help', async () => {
  for (const argv of [[], ['frobnicate'], ['check'], ['check', '--bogus', 'examples'], ['check', '--format', 'xml', 'examples'], ['check', '--rule', 'nope', 'examples'], ['simulate', '--bogus']]) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(lines[0], /^faultline( \w+)?: /);
    assert.match(lines[1], /^Try 'faultline( \w+)? --help' for more information\.$/);
    assert.equal(r.out, '');
  }
});

test('a run that checks no file says so and exits 2', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'notes.txt'), 'not code\n');
  const r = await run(['check', '.'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.err, /^faultline check: no file checked \(\.: no \.c, \.h, /m);
  assert.equal((await run(['check', '--exit-zero', '.'], { cwd: dir })).code, 2);
});

test('a broken patch yields a partial result plus an error line naming the patch row', async () => {
  const text = readFileSync(join(EXAMPLES, 'gup-leak-introduced.patch'), 'utf8').split('\n');
  const cut = text.findIndex((l) => l.includes('return -EFAULT;')) + 1;
  const truncated = text.slice(0, cut).join('\n') + '\n';
  const r = await run(['check', '-'], { stdin: truncated });
  assert.equal(r.code, 2);
  assert.match(r.err, /^faultline: <stdin>:\d+: hunk @@ .* is truncated/m);
});

test('explain prints plain text for a known API; unknown names exit 2', async () => {
  const r = await run(['explain', 'pin_user_pages']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /pin_user_pages/);
  assert.ok(!/```|\*\*[A-Z]|`\w/.test(r.out), 'markdown is rendered to plain text');
  const paren = await run(['explain', 'pin_user_pages()']);
  assert.equal(paren.code, 0);
  const typo = await run(['explain', 'pin_user_page_fast']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /did you mean .*pin_user_pages_fast/);
  const u = await run(['explain', 'no_such_function_xyz']);
  assert.equal(u.code, 2);
  assert.match(u.err, /'no_such_function_xyz' is not in the API table/);
});

test('SARIF from a real run validates against the SARIF 2.1.0 schema', async (t) => {
  const r = await run(['check', '--format', 'sarif', 'examples', 'no-such-file.c'], { env: { FAULTLINE_DOCS_BASE: 'https://example.org/faultline/' } });
  assert.equal(r.code, 2);
  const sarif = JSON.parse(r.out);
  const rules = sarif.runs[0].tool.driver.rules as { id: string; helpUri: string }[];
  for (const rule of allRules) {
    const m = rules.find((x) => x.id === rule.meta.id);
    assert.ok(m, rule.meta.id);
    assert.equal(m!.helpUri, `https://example.org/faultline/docs/rules/${rule.meta.id}.md`);
  }
  assert.ok(sarif.runs[0].results.length >= 5);
  for (const res of sarif.runs[0].results) assert.equal(rules[res.ruleIndex].id, res.ruleId);
  assert.equal(sarif.runs[0].invocations[0].executionSuccessful, false);
  const schemaPath = findSarifSchema();
  if (!schemaPath) {
    assert.ok(!process.env.CI, 'CI: the SARIF 2.1.0 schema must be installed (devDependency @microsoft/jest-sarif)');
    t.skip('SARIF 2.1.0 schema not installed (devDependency @microsoft/jest-sarif)');
    return;
  }
  const validate = sarifValidator(schemaPath);
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  // default docs base: a file:// URI of the installed package, pointing at real pages when they exist
  const d = await run(['check', '--format', 'sarif', 'examples']);
  const helpUri: string = JSON.parse(d.out).runs[0].tool.driver.rules[0].helpUri;
  assert.match(helpUri, /^file:\/\/.*\/docs\/rules\/[a-z-]+\.md$/);
});

test('bin/faultline end to end (built bundle): exit codes, stdin pipe, npm start command', (t) => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
    assert.ok(!process.env.CI, 'CI: dist/cli.js must be built (npm test builds it)');
    t.skip('dist/cli.js not built');
    return;
  }
  const sh = (args: string[], input?: string | Buffer) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  const all = sh(['check', 'examples/']);
  assert.equal(all.status, 1, all.stderr);
  assert.match(all.stdout, /\[gup-leak\]/);
  // the npm start command, as package.json has it: findings, a summary, exit 0
  const startArgs = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string).split(/\s+/).slice(2);
  assert.equal(startArgs[0], 'check');
  const start = sh(startArgs);
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /\[gup-leak\]/);
  assert.match(start.stdout, /files checked/);
  const clean = sh(['check', 'examples/gup-leak-fixed.c']);
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  const pipe = sh(['check', '--format', 'checkpatch', '-'], readFileSync(join(EXAMPLES, 'gup-leak-introduced.patch')));
  assert.equal(pipe.status, 1, pipe.stderr);
  assert.match(pipe.stdout, /^<stdin>:\d+: ERROR:gup-leak: /m);
  const showfile = sh(['check', '--format', 'checkpatch', '--showfile', '-'], readFileSync(join(EXAMPLES, 'gup-leak-introduced.patch')));
  assert.equal(showfile.status, 1, showfile.stderr);
  assert.match(showfile.stdout, /^drivers\/misc\/frob\.c:\d+: ERROR:gup-leak: /m);
  const usage = sh(['check', '--rule', 'nope', 'examples']);
  assert.equal(usage.status, 2);
  const ver = sh(['--version']);
  assert.equal(ver.status, 0);
});

test('--tree DIR: patched files are analyzed whole; a missing tree is a usage error', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'linux', 'mm'), { recursive: true });
  const base = [
    'static int grab_all(unsigned long start, struct page **pages, int nr)',
    '{',
    '\tlong got = 0;',
    '',
    '\tif (!nr)',
    '\t\treturn 0;',
    '',
    '\tif (nr > 64)',
    '\t\treturn -E2BIG;',
    '\ttrace_grab(nr);',
    '\tstats_inc(nr);',
    '',
    '\tif (signal_pending(current))',
    '\t\treturn -EINTR;',
    '\tunpin_user_pages(pages, got);',
    '\treturn 0;',
    '}',
    '',
  ];
  writeFileSync(join(dir, 'linux', 'mm', 'grab.c'), base.join('\n'));
  const patch = [
    'diff --git a/mm/grab.c b/mm/grab.c',
    '--- a/mm/grab.c',
    '+++ b/mm/grab.c',
    '@@ -8,4 +8,7 @@ static int grab_all(unsigned long start, struct page **pages, int nr)',
    ' \tif (nr > 64)',
    ' \t\treturn -E2BIG;',
    '+\tgot = pin_user_pages_fast(start, nr, 0, pages);',
    '+\tif (got <= 0)',
    '+\t\treturn -EFAULT;',
    ' \ttrace_grab(nr);',
    ' \tstats_inc(nr);',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'grab.patch'), patch);
  const without = await run(['check', 'grab.patch'], { cwd: dir });
  assert.equal(without.code, 0, without.out + without.err);
  const withTree = await run(['check', '--format', 'json', '--tree', 'linux', 'grab.patch'], { cwd: dir });
  assert.equal(withTree.code, 1, withTree.err);
  const d = JSON.parse(withTree.out).diagnostics;
  assert.equal(d[0].rule, 'gup-leak');
  assert.equal(d[0].line, 7, 'on the added pin line of the patch');
  assert.deepEqual([d[0].target.file, d[0].target.line], ['mm/grab.c', 17]);
  const missing = await run(['check', '--tree', 'nope', 'grab.patch'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--tree nope: no such directory/);
});

test('simulate is delegated to the simulator command', async () => {
  const list = await run(['simulate', '--list']);
  assert.equal(list.code, 0, list.err);
  const first = list.out.trim().split('\n')[0].split(/\s+/)[0];
  assert.ok(first, 'at least one scenario is listed');
  const r = await run(['simulate', '--scenario', first, '--json']);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const j = JSON.parse(r.out);
  assert.ok(typeof (Array.isArray(j) ? j[0] : j).verdict === 'string');
  assert.equal((await run(['simulate', '--scenario', 'no-such-scenario'])).code, 2);
});
