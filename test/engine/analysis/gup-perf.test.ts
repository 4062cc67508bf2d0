// A 500-line function with 40 gotos must check in milliseconds: generated C, real front end.
// The time is printed; what is asserted is the analysis' own work (steps of the GUP path
// exploration, the unit its budget counts), so the test does not depend on machine load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import { analyzeGupRefs } from '../../../engine/analysis/gup-refs';
import type { FileIR } from '../../../engine/ir';

/** Steps the GUP analysis spent on every function of the file (cached by runRules). */
function gupSteps(ir: FileIR): number {
  let n = 0;
  for (const fn of ir.functions) {
    const a = analyzeGupRefs(fn, ir);
    assert.equal(a.exhausted, undefined, `${fn.name}: ${a.exhausted}`);
    n += a.steps ?? 0;
  }
  return n;
}

function generate(gotos: number): string {
  const lines: string[] = [];
  lines.push('static int big_map(struct big *b, unsigned long uaddr, int nr, struct page **pages)', '{', '\tint ret, err, i;', '');
  lines.push('\tret = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);', '\tif (ret <= 0)', '\t\treturn -EFAULT;');
  for (let k = 0; k < gotos; k++) {
    lines.push(`\terr = big_step${k}(b, ret);`);
    lines.push(`\tif (err == ${k + 1})`);
    lines.push(`\t\tgoto out_${k % 2 ? 'unpin' : 'put'};`);
    lines.push(`\tif (b->flags & ${1 << (k % 16)})`);
    lines.push(`\t\tb->count += ${k};`);
    lines.push('\telse', `\t\tb->count -= ${k};`);
    for (let j = 0; j < 6; j++) lines.push(`\tb->acc[${j}] = b->acc[${j}] + ${k};`);
  }
  lines.push('\tfor (i = 0; i < ret; i++)', '\t\tbig_touch(b, i);');
  lines.push('out_unpin:', '\tunpin_user_pages(pages, ret);', '\treturn err;', 'out_put:', '\tunpin_user_pages(pages, ret);', '\treturn -EIO;', '}');
  return lines.join('\n') + '\n';
}

test('GUP rules on a 500-line function with 40 gotos stay fast', async () => {
  const text = generate(40);
  assert.ok(text.split('\n').length >= 500, `generated ${text.split('\n').length} lines`);
  const parser = await loadCParser();
  const ir = lowerC(parser, text);
  const t0 = performance.now();
  const findings = runRules(ir, text);
  const ms = performance.now() - t0;
  const steps = gupSteps(ir);
  console.log(`# gup rules: ${text.split('\n').length} lines, 40 gotos: ${ms.toFixed(1)} ms, ${steps} steps, ${findings.length} findings`);
  // Measured 13,291 steps (one path per goto target and flag pattern merged); exponential
  // growth over 40 diamonds would be millions.
  assert.ok(steps < 30_000, `${steps} steps`);
  assert.deepEqual(findings.filter((f) => f.rule.startsWith('gup-')), []);
});

/** 80 diamonds that assign different values, 80 gotos to three labels, loops in between. */
function generateWorst(n: number): string {
  const lines = ['static int worst(struct big *b, unsigned long uaddr, int nr, struct page **pages)', '{', '\tint ret, err = 0, i, v0, v1, v2, v3;', ''];
  lines.push('\tret = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);', '\tif (ret < 0)', '\t\treturn ret;');
  for (let k = 0; k < n; k++) {
    lines.push(`\tif (b->f${k})`, `\t\tv${k % 4} = ${k};`, '\telse', `\t\tv${k % 4} = -${k};`);
    lines.push(`\tif (big_check${k}(b))`, `\t\tgoto out_${k % 3};`);
    if (k % 5 === 0) lines.push(`\tfor (i = 0; i < v${k % 4}; i++)`, '\t\tb->acc[i] += ret;');
  }
  lines.push('\tunpin_user_pages(pages, ret);', '\treturn 0;', 'out_0:', '\tunpin_user_pages(pages, ret);', 'out_1:', '\terr = -EIO;', 'out_2:', '\treturn err;', '}');
  return lines.join('\n') + '\n';
}

test('path explosion stays bounded and every leaking goto is still found', async () => {
  const text = generateWorst(80);
  const parser = await loadCParser();
  const ir = lowerC(parser, text);
  const t0 = performance.now();
  const findings = runRules(ir, text);
  const ms = performance.now() - t0;
  const steps = gupSteps(ir);
  console.log(`# worst case: ${text.split('\n').length} lines: ${ms.toFixed(1)} ms, ${steps} steps, ${findings.length} findings`);
  assert.ok(steps < 5_000, `${steps} steps`); // measured 728
  // gotos to out_1 return -EIO with the pages still pinned (k % 3 == 1: 27 of them); out_0
  // releases; out_2 returns 0 with the caller's array filled (the caller's to release).
  const leaks = findings.filter((f) => f.rule === 'gup-leak').map((f) => text.split('\n')[f.range.startRow].trim());
  assert.equal(leaks.length, 27);
  assert.ok(leaks.every((l) => l === 'goto out_1;'), leaks.join('\n'));
});

test('a file with hundreds of GUP functions and same-file helpers stays fast', async () => {
  const { readdirSync, readFileSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  let dir = __dirname;
  for (let i = 0; i < 6 && !existsSync(join(dir, 'test', 'fixtures')); i++) dir = join(dir, '..');
  let text = '';
  for (const d of ['gup-leak', 'gup-silent', 'gup-release-mismatch', 'gup-partial-release', 'gup-double-release']) {
    const p = join(dir, 'test', 'fixtures', d);
    for (const f of readdirSync(p).sort()) text += readFileSync(join(p, f), 'utf8') + '\n';
  }
  text = text.repeat(4);
  const parser = await loadCParser();
  const ir = lowerC(parser, text);
  const t0 = performance.now();
  const findings = runRules(ir, text, { rules: ['gup-leak', 'gup-release-mismatch', 'gup-partial-release', 'gup-double-release'] });
  const ms = performance.now() - t0;
  const steps = gupSteps(ir);
  console.log(`# ${text.split('\n').length} lines, ${ir.functions.length} functions: ${ms.toFixed(0)} ms, ${steps} steps, ${findings.length} findings`);
  // Linear in the functions: about 19 steps per function measured.
  assert.ok(steps < 60 * ir.functions.length, `${steps} steps over ${ir.functions.length} functions`);
});

test('a function whose only page references sit in memory others see (get_page(pfrag->page)) is not explored; get_page(page) on a local is', async () => {
  const branches = (k: number): string => Array.from({ length: k }, (_, i) => `\tif (skb->len > ${i}) copy += frag_step${i}(skb);\n`).join('');
  const ir = lowerC(await loadCParser(), `
static int append_frags(struct sk_buff *skb, struct page_frag *pfrag, int copy)
{
${branches(12)}	get_page(pfrag->page);
	skb_fill_page_desc(skb, 0, pfrag->page, pfrag->offset, copy);
	return copy;
}

static int append_local(struct sk_buff *skb, struct page *page, int copy)
{
${branches(12)}	get_page(page);
	skb_fill_page_desc(skb, 0, page, 0, copy);
	return copy;
}
`);
  const [frags, local] = ir.functions.map((fn) => analyzeGupRefs(fn, ir));
  assert.deepEqual([frags.acquisitions.length, frags.facts.length, frags.steps], [0, 0, undefined]);
  assert.equal(local.acquisitions.length, 1);
  assert.ok((local.steps ?? 0) > 12, `${local.steps} steps`);
});
