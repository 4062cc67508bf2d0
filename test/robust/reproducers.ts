// Generated reproducers of the defects of "No input can crash, hang or poison a run" (all
// synthetic: no kernel code). Shared by the regression tests (test/robust/*.test.ts) and the fuzz
// suite (scripts/fuzz.mjs -> out/test/robust/fuzz.js).

/** `__acquires(` repeated up to `bytes` characters: unclosed nesting the parser keeps on its stack. */
export function unclosedAnnotations(bytes: number, word = '__acquires('): string {
  return word.repeat(Math.max(1, Math.floor(bytes / word.length)));
}

/** One unterminated comment: `/* ` repeated (re-lexed from every position: quadratic). */
export function repeatedCommentOpeners(bytes: number): string {
  return '/* '.repeat(Math.max(1, Math.floor(bytes / 3)));
}

/** A fault-in call with `n` arguments in a retry loop around a byte-granular copy. */
export function faultInWithArgs(callee: string, args: string[]): string {
  return `static int demo_retry(char __user *ubuf, const char *kbuf, size_t len)
{
	size_t left;

	for (;;) {
		left = copy_to_user(ubuf, kbuf, len);
		if (!left)
			return 0;
		while (${callee}(${args.join(', ')})) {
			left = len;
		}
	}
}
`;
}

/** One function with `labels` backward `goto` retry labels, each with a fault-in and a copy. */
export function backwardGotoLabels(labels: number): string {
  const body: string[] = [];
  for (let i = 0; i < labels; i++) {
    body.push(`retry_${i}:`);
    body.push(`\tleft = copy_from_user(kbuf + ${i}, ubuf + ${i}, len);`);
    body.push(`\tif (left && !fault_in_readable(ubuf + ${i}, len))`);
    body.push(`\t\tgoto retry_${i};`);
  }
  return `static int demo_labels(char *kbuf, const char __user *ubuf, size_t len)\n{\n\tsize_t left = 0;\n\n${body.join('\n')}\n\treturn left ? -EFAULT : 0;\n}\n`;
}

/** `n` functions, each calling the next (the last pins and releases pages). */
export function callChain(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? `\treturn demo_chain_${i + 1}(uaddr, pages);` : `\tint got = pin_user_pages_fast(uaddr, 1, FOLL_WRITE, pages);\n\n\tif (got == 1)\n\t\tunpin_user_page(pages[0]);\n\treturn got;`;
    out.push(`static int demo_chain_${i}(unsigned long uaddr, struct page **pages)\n{\n${next}\n}\n`);
  }
  return out.reverse().join('\n');
}

/** `n` functions calling each other in one cycle. */
export function callCycle(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`static int demo_cycle_${i}(unsigned long uaddr, struct page **pages)\n{\n\tif (!uaddr)\n\t\treturn 0;\n\treturn demo_cycle_${(i + 1) % n}(uaddr - 1, pages);\n}\n`);
  }
  return out.join('\n');
}

/** `n` small independent functions, one in `every` of them pinning pages and leaking on error. */
export function manyFunctions(n: number, every = 50): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % every === 0)
      out.push(`static int demo_many_${i}(unsigned long uaddr, int err)\n{\n\tstruct page *page;\n\n\tif (get_user_pages_fast(uaddr, 1, 0, &page) != 1)\n\t\treturn -EFAULT;\n\tif (err)\n\t\treturn err;\n\tput_page(page);\n\treturn 0;\n}\n`);
    else out.push(`static int demo_many_${i}(int a, int b)\n{\n\treturn a * ${i} + b;\n}\n`);
  }
  return out.join('\n');
}

/** An `@faultline expect` annotation with no function under it. */
export const expectOutsideFunction = `struct demo_state {\n\tint x;\n};\n\n/* @faultline expect gup-leak */\n\nstatic int demo_value;\n`;

/**
 * `copies` copies of the same small file (a struct, a helper and a pinning function that names
 * itself and the helper), as a file repeated up to the size limit is: every name is defined
 * `copies` times. Relevance spreading between same-named items was quadratic in `copies`.
 */
export function repeatedFile(copies: number): string {
  const unit = `struct demo_rep {
	struct page **pg;
	int n;
};

static void demo_rep_put(struct demo_rep *r, int got)
{
	if (got > 0)
		unpin_user_pages(r->pg, got);
}

static int demo_rep_pin(struct demo_rep *r, unsigned long uaddr, int again)
{
	int got = pin_user_pages_fast(uaddr, r->n, FOLL_WRITE, r->pg);

	if (got != r->n) {
		demo_rep_put(r, got);
		return again ? demo_rep_pin(r, uaddr, 0) : -EFAULT;
	}
	return 0;
}

static int demo_rep_sum(const int *v, int n)
{
	return n ? v[0] + demo_rep_sum(v + 1, n - 1) : 0;
}
`;
  return unit.repeat(copies);
}

/** Top-level brace blocks that never end an item (`{}{}{}...`), `pairs` of them. */
export function bareBlocks(pairs: number): string {
  return '{}'.repeat(pairs);
}

/**
 * A copy helper `emit` and a caller `dump` that takes a glock through the helper `take` (defined
 * elsewhere) and copies to user memory under it (a fault under the lock). `dump` names no API
 * itself: only `take` ties it to the rules.
 */
function glockCaller(take: string, emit: string, dump: string): string {
  return `static int ${emit}(void __user *dst, u64 v)
{
	return put_user(v, (u64 __user *)dst);
}

long ${dump}(struct demo_ctx *c, void __user *arg, int n)
{
	int k, err;

	err = ${take}(c);
	if (err)
		return err;
	for (k = 0; k < n; k++) {
		err = ${emit}(arg + k * 8, c->ip->vals[k]);
		if (err)
			break;
	}
	gfs2_glock_dq_uninit(&c->gh);
	return err;
}
`;
}

/**
 * `copies` groups of: a function whose closing `}` is missing, so the next function (a helper
 * that takes a glock) is nested in it for the parser, then a copy helper and a caller that takes
 * the glock through the helper and copies to user memory under it (glockCaller).
 * The scan of the batch path did not see the nested helper's name: the caller, which names no
 * API itself, was blanked in the CLI and reported by the server (fuzz seed 7 #9758).
 */
export function nestedLockHelper(copies: number): string {
  const out: string[] = [];
  for (let i = 0; i < copies; i++) {
    out.push(`static int demo_prep_${i}(struct demo_ctx *c, unsigned long base)
{
	c->off = base & ~PAGE_MASK;
	if (!c->off)
		return 0;

static int demo_take_${i}(struct demo_ctx *c)
{
	gfs2_holder_init(c->ip->i_gl, LM_ST_EXCLUSIVE, 0, &c->gh);
	return gfs2_glock_nq(&c->gh);
}
}

${glockCaller(`demo_take_${i}`, `demo_emit_${i}`, `demo_dump_${i}`)}`);
  }
  return out.join('\n');
}

/**
 * The same caller, with the glock helper defined by a macro (`DEMO_LOCKER(name, ...) { ... }`,
 * lowered as a function called `name`): the scan keeps the macro-made item but cannot name it.
 */
export function macroMadeLockHelper(copies: number): string {
  const out: string[] = [];
  for (let i = 0; i < copies; i++) {
    out.push(`DEMO_LOCKER(demo_mtake_${i}, struct demo_ctx *c)
{
	gfs2_holder_init(c->ip->i_gl, LM_ST_EXCLUSIVE, 0, &c->gh);
	return gfs2_glock_nq(&c->gh);
}

${glockCaller(`demo_mtake_${i}`, `demo_memit_${i}`, `demo_mdump_${i}`)}`);
  }
  return out.join('\n');
}
