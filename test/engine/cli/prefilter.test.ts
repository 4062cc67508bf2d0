// The byte prefilter (engine/cli/prefilter.ts) must be unable to change a result: a file it
// rules out gives no finding and no problem when analyzed anyway. Checked on every fixture, on
// the generated bench corpus (and copies of it with every word the prefilter looks for defaced,
// which it rules out), and on a fixed sample of real Linux 6.1 files when the tree is present.
// Also: the directed relevance spreading (engine/syntax/relevance-graph.ts) on real files, with
// skipIrrelevant compared to a full analysis.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../../engine/engine';
import { ahoCorasick, compilePrefilter, tablePrefilter } from '../../../engine/cli/prefilter';
import { ANNOTATION_MARKER } from '../../../engine/rules/annotations';
import { checkFile, type CheckOptions, type FileContext, type FileOutcome } from '../../../engine/cli/check-file';
import { relevantApiNames } from '../../../engine/rules/relevance';
import { relevanceWords, textMayReport } from '../../../engine/rules/rule-relevance';
import { generateCorpus, rng } from '../../../bench/generate-corpus';
import { fixtureFiles, repoRoot } from '../../helpers/repo';
import { findTree } from '../../realcode/baseline';

// FAULTLINE_LINUX_TREE (scripts/run-tests.mjs sets it), else the unpack ensure-linux-tree.sh finds.
const LINUX = findTree(repoRoot()).path ?? '/nonexistent/linux-6.1';

let enginePromise: Promise<Engine> | undefined;
const engine = (): Promise<Engine> => (enginePromise ??= createEngine());

function opts(prefilter: boolean): CheckOptions {
  return { cwd: '/', limit: 8 << 20, budgetMs: 600_000, prefilter, hash: false };
}

function ctx(e: Engine, prefilter: boolean): FileContext {
  return { engine: () => e, opts: opts(prefilter), prefilter: prefilter ? tablePrefilter() : undefined, readBase: undefined };
}

/** Findings and problems of an outcome, as printed (a clean outcome is none of either). */
function shape(o: FileOutcome): unknown {
  if (o.k === 'clean') return { findings: [], problems: [] };
  if (o.k === 'report') return { findings: o.result.findings, problems: o.result.problems };
  return o;
}

/** Checks `paths` with and without the prefilter; returns how many the prefilter ruled out. */
function compareAll(e: Engine, paths: string[]): { ruledOut: number; analyzed: number; findings: number } {
  const on = ctx(e, true);
  const off = ctx(e, false);
  let ruledOut = 0, analyzed = 0, findings = 0;
  paths.forEach((path, index) => {
    const a = checkFile(on, { index, path, explicit: true });
    const b = checkFile(off, { index, path, explicit: true });
    assert.deepEqual(shape(a), shape(b), `${path}: the prefilter changed the result`);
    if (a.k === 'clean' && a.prefiltered) {
      ruledOut++;
      // The point of the comparison: analyzed anyway, a ruled-out file reports nothing.
      assert.equal(b.k, 'clean', `${path}: ruled out by the prefilter but the analysis reports something`);
    } else analyzed++;
    if (b.k === 'report') findings += b.result.findings.length;
  });
  return { ruledOut, analyzed, findings };
}

test('prefilter: the matcher finds exactly the names a substring search finds', () => {
  const table = [...relevantApiNames(), ANNOTATION_MARKER];
  const sets: string[][] = [
    ['put_page', 'get_page', 'pagefault_disable', 'page', 'fault_in_readable', '@faultline', 'ab', 'bab'], // shortest 2: Wu-Manber, shift 1
    ['put_page', 'q', 'get_page'], // a one-byte name: the Aho-Corasick fallback
    ['kmap', 'ab', 'put_page', 'get_user_pages'], // a few short names looked for on their own, Wu-Manber over the rest
    table, // the real table: Wu-Manber with a long window, kmap and vmap on their own
  ];
  const r = rng(11);
  for (const names of sets) {
    const pf = compilePrefilter(names);
    const ac = ahoCorasick([...names]);
    const alphabet = 'abgpu_etfdislq@ \n' + names.join('').slice(0, 40);
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const len = Math.floor(r() * 60);
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(r() * alphabet.length)];
      // Plant a name (or most of one) now and then, at a random place.
      if (r() < 0.4) {
        const n = names[Math.floor(r() * names.length)];
        const cut = r() < 0.5 ? n : n.slice(0, Math.max(1, n.length - 1 - Math.floor(r() * 3)));
        const at = Math.floor(r() * (s.length + 1));
        s = s.slice(0, at) + cut + s.slice(at);
      }
      const expected = names.some((n) => s.includes(n));
      assert.equal(pf.mayReport(Buffer.from(s)), expected, `${names.length} names: ${JSON.stringify(s)}`);
      assert.equal(ac(Buffer.from(s)), expected, `automaton, ${names.length} names: ${JSON.stringify(s)}`);
    }
  }
  assert.equal(compilePrefilter([]).mayReport(Buffer.from('put_page')), false);
});

test('prefilter: compiled from the rules\' conditions, with the annotation marker: it passes every text on which a rule can fire', () => {
  const pf = tablePrefilter();
  assert.ok(pf.names.includes(ANNOTATION_MARKER));
  assert.equal(pf.mayReport(Buffer.from('static int add(int a, int b) { return a + b; }\n')), false);
  // Texts made of the words the rules' conditions name (a few of them, as calls or as words):
  // whenever some rule can fire on one, the prefilter must let it through.
  const words = [...relevanceWords(), ...relevantApiNames()];
  const r = rng(17);
  let firing = 0;
  for (let i = 0; i < 6000; i++) {
    const picked = Array.from({ length: 1 + Math.floor(r() * 4) }, () => words[Math.floor(r() * words.length)]);
    const text = `int f(struct vm_area_struct *vma) {\n${picked.map((w) => (r() < 0.5 ? `\t${w}(0);` : `\tx->${w} = 1;`)).join('\n')}\n}\n`;
    if (!textMayReport(text)) continue;
    firing++;
    assert.equal(pf.mayReport(Buffer.from(text)), true, text);
  }
  assert.ok(firing > 500, `texts on which a rule can fire: ${firing}`);
  // Each relevant API name alone, called: when that lets a rule fire, the prefilter passes it.
  for (const n of relevantApiNames()) {
    const text = `int f(void) { return ${n}(0); }`;
    if (textMayReport(text)) assert.equal(pf.mayReport(Buffer.from(text)), true, n);
  }
});

test('prefilter: every fixture gives the same result with and without it', async () => {
  const e = await engine();
  const files = fixtureFiles();
  assert.ok(files.length > 10);
  const r = compareAll(e, files);
  assert.ok(r.findings > 0, 'fixtures should have findings');
});

test('prefilter: a file with only an annotation (no API) is analyzed and reports the annotation', async () => {
  const e = await engine();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-prefilter-'));
  try {
    const p = join(dir, 'only-annotation.c');
    writeFileSync(p, 'static int add(int a, int b)\n{\n\t/* @faultline expect gup-leak */\n\treturn a + b;\n}\n');
    const a = checkFile(ctx(e, true), { index: 0, path: p, explicit: true });
    assert.equal(a.k, 'report');
    assert.ok(a.k === 'report' && a.result.findings.some((f) => f.rule === 'annotation'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prefilter: the generated corpus, and copies with every prefilter word defaced, give the same results', async () => {
  const e = await engine();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-prefilter-'));
  try {
    const corpus = generateCorpus(dir, 40, 400);
    // The words the prefilter looks for (per rule, one set the rule cannot fire without).
    const names = tablePrefilter().names.filter((n) => n !== ANNOTATION_MARKER).sort((a, b) => b.length - a.length);
    const defaced: string[] = [];
    const commented: string[] = [];
    corpus.files.forEach((f, i) => {
      let text = readFileSync(f, 'utf8');
      // Same length, none of those words left: no rule can fire; the prefilter must say so.
      for (const n of names) text = text.split(n).join(`X${n.slice(1)}`);
      const d = join(dir, `defaced-${i}.c`);
      writeFileSync(d, text);
      defaced.push(d);
      // A name in a comment only: the prefilter lets it through (it cannot know), the result is clean.
      const c = join(dir, `commented-${i}.c`);
      writeFileSync(c, `/* see ${names[i % names.length]}() */\n${text}`);
      commented.push(c);
    });
    const r = compareAll(e, [...corpus.files, ...defaced, ...commented]);
    assert.ok(r.findings > 0, 'the corpus should have findings');
    assert.equal(r.ruledOut, defaced.length, 'every defaced copy is ruled out, nothing else');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every `step`-th .c file under the given subdirectories of the tree, sorted (a fixed sample). */
function sampleTree(root: string, subdirs: string[], step: number): string[] {
  const all: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.c') && st.size < 200_000) all.push(p);
    }
  };
  for (const s of subdirs) if (existsSync(join(root, s))) walk(join(root, s));
  return all.filter((_, i) => i % step === 0);
}

test('prefilter: a fixed sample of real Linux 6.1 files gives the same results', { skip: !existsSync(LINUX) && `no Linux 6.1 tree at ${LINUX}` }, async () => {
  const e = await engine();
  // Ruled-out files are analyzed anyway (that is the check); mostly small, so this stays quick.
  const sample = sampleTree(LINUX, ['mm', 'fs', 'kernel', 'lib', 'block', 'io_uring', 'virt', 'drivers/vhost', 'drivers/misc'], 9);
  assert.ok(sample.length > 100, `sample too small: ${sample.length}`);
  const r = compareAll(e, sample);
  assert.ok(r.ruledOut > 50 && r.analyzed > 10, `sample should have both kinds (ruled out ${r.ruledOut}, analyzed ${r.analyzed})`);
});

test('relevance: real Linux 6.1 files that name relevant APIs give the same findings with skipIrrelevant', { skip: !existsSync(LINUX) && `no Linux 6.1 tree at ${LINUX}` }, async () => {
  const e = await engine();
  const pf = tablePrefilter();
  const files = sampleTree(LINUX, ['mm', 'fs', 'drivers/vhost', 'drivers/misc', 'lib', 'io_uring', 'virt', 'block', 'drivers/infiniband/core', 'drivers/net/ethernet/intel'], 1)
    .filter((p) => statSync(p).size < 60_000 && pf.mayReport(readFileSync(p)))
    .filter((_, i) => i % 5 === 0);
  assert.ok(files.length >= 20, `sample too small: ${files.length}`);
  let skipped = 0;
  for (const p of files) {
    const text = readFileSync(p, 'utf8');
    const full = e.analyzeC(text, { path: p });
    const fast = e.analyzeC(text, { path: p, skipIrrelevant: true });
    full.tree?.delete();
    fast.tree?.delete();
    const pick = (r: typeof full) => r.findings.map((f) => ({ rule: f.rule, range: f.range, message: f.message, function: f.function }));
    assert.deepEqual(pick(fast), pick(full), `${p}: findings differ with skipIrrelevant`);
    skipped += (full.file?.functions.length ?? 0) - (fast.file?.functions.length ?? 0);
  }
  assert.ok(skipped > 0, 'the filter should skip functions in real files');
});
