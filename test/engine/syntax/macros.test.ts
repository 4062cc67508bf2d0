// Kernel annotation macros are blanked without moving any offset, row or column.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankKernelMacros } from '../../../engine/syntax/macros';

function sameLayout(a: string, b: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '\n' || a[i] === '\r') assert.equal(b[i], a[i], `newline moved at ${i}`);
    if (b[i] !== a[i]) assert.equal(b[i], ' ', `position ${i} changed to '${b[i]}' instead of a space`);
  }
}

test('bare annotations become spaces of the same length', () => {
  const src = 'static __always_inline int __must_check foo_copy(void __user *buf, void __iomem *reg, struct foo __rcu *p)';
  const out = blankKernelMacros(src);
  sameLayout(src, out);
  assert.equal(out.replace(/\s+/g, ' '), 'static int foo_copy(void *buf, void *reg, struct foo *p)');
  assert.equal(out.indexOf('foo_copy'), src.indexOf('foo_copy'));
});

test('annotations with nested parenthesised arguments, across lines', () => {
  const src = [
    'static void foo_lock(struct foo *f) __acquires(&f->lock)',
    '\t__attribute__((nonnull(1), section(".text.foo")))',
    '{',
    '\tstruct foo_buf *b __free(kfree) = NULL;',
    '}',
    'int foo_log(const char *fmt, ...) __printf(1,',
    '\t2);',
    'struct foo_hdr { int n; struct page *pages[] __counted_by(n); } __packed __aligned(8);',
  ].join('\n');
  const out = blankKernelMacros(src);
  sameLayout(src, out);
  assert.ok(!/__acquires|__attribute__|__free|__printf|__counted_by|__packed|__aligned/.test(out), out);
  assert.ok(out.includes('struct foo_buf *b') && out.includes('= NULL;'));
  assert.equal(out.split('\n').length, src.split('\n').length);
});

test('strings, char literals and comments are left alone', () => {
  const src = 'const char *s = "__user __attribute__((x))"; /* __user __releases(x) */ char c = \'_\'; // __iomem\nint __user_count;';
  const out = blankKernelMacros(src);
  sameLayout(src, out);
  assert.equal(out, src, 'nothing to blank: identifiers that merely start with an annotation name stay');
});

test('likely/unlikely/READ_ONCE keep their argument', () => {
  const src = 'if (unlikely(!foo_ok(READ_ONCE(f->x)))) return likely(y);';
  assert.equal(blankKernelMacros(src), src);
});

test('EXPORT_SYMBOL lines go with their semicolon; preprocessor lines are untouched', () => {
  const src = [
    '#define __user __attribute__((noderef, address_space(__user)))',
    'int foo_api(void) { return 0; }',
    'EXPORT_SYMBOL_GPL(foo_api);',
    '  EXPORT_SYMBOL(foo_api2);',
    'x = EXPORT_SYMBOL(foo);',
  ].join('\n');
  const out = blankKernelMacros(src);
  sameLayout(src, out);
  const lines = out.split('\n');
  assert.equal(lines[0], '#define __user __attribute__((noderef, address_space(__user)))');
  assert.equal(lines[2].trim(), '');
  assert.equal(lines[3].trim(), '');
  assert.equal(lines[4], 'x = EXPORT_SYMBOL(foo);', 'only at the start of a line');
});

test('unbalanced annotation arguments are left as they are', () => {
  const src = 'void foo(void) __acquires(x;\n{ }';
  assert.equal(blankKernelMacros(src), src);
  const src2 = 'int a __aligned(';
  assert.equal(blankKernelMacros(src2), src2);
});

test('CRLF line endings survive', () => {
  const src = 'int __init foo_init(void)\r\n{\r\n\treturn 0;\r\n}\r\n__exit void foo_exit(void) __releases(&a\r\n)\r\n{ }';
  const out = blankKernelMacros(src);
  sameLayout(src, out);
  assert.ok(!out.includes('__init') && !out.includes('__exit') && !out.includes('__releases'));
});

test('linear time on a large input', () => {
  const unit = 'static int __must_check foo(void __user *p) __acquires(l) { return bar(p, "__user"); } /* __iomem */\n';
  const big = unit.repeat(20000);
  const t0 = performance.now();
  const out = blankKernelMacros(big);
  const ms = performance.now() - t0;
  assert.equal(out.length, big.length);
  console.log(`blankKernelMacros: ${(big.length / 1e6).toFixed(1)} MB in ${ms.toFixed(1)} ms`);
  // Pathological: many unbalanced openers must not go quadratic (span limit).
  const bad = '__attribute__(('.repeat(20000);
  const t1 = performance.now();
  blankKernelMacros(bad);
  console.log(`blankKernelMacros unbalanced: ${(performance.now() - t1).toFixed(1)} ms`);
});
