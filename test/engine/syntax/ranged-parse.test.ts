// The batch parse skips the insides of blanked functions (engine/engine.ts parseForBatch: the
// rest of the text as tree-sitter's included ranges). It must give exactly the tree of the
// blanked text: every node's type, field, extent, row and column. Checked on every fixture, on
// hand-made shapes that stress the range ends (directives right before a blanked function,
// CRLF, multi-byte text, a blanked function at the end of the file), and on real Linux 6.1 files
// when the tree is present.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { blankKernelMacros } from '../../../engine/syntax/macros';
import { blankIrrelevant, rangesOutside } from '../../../engine/syntax/blank-irrelevant';
import { relevantApiNames } from '../../../engine/rules/relevance';
import { fixtureFiles, repoRoot } from '../../helpers/repo';
import { findTree } from '../../realcode/baseline';
import { treeNodes } from '../../helpers/tree-nodes';

// FAULTLINE_LINUX_TREE (scripts/run-tests.mjs sets it), else the unpack ensure-linux-tree.sh finds.
const LINUX = findTree(repoRoot()).path ?? '/nonexistent/linux-6.1';

/** Parses `text` both ways; returns how many gaps were skipped. */
function compare(parser: CParser, text: string, apis: ReadonlySet<string>, label: string): number {
  const b = blankIrrelevant(blankKernelMacros(text), apis);
  if (!b.gaps.length) return 0;
  for (const [s, e] of b.gaps) assert.match(b.text.slice(s, e), /^\s*$/, `${label}: a gap holds only blanks`);
  const whole = parser.parse(b.text);
  const ranged = parser.parse(b.text, null, { includedRanges: rangesOutside(b.text, b.gaps) });
  try {
    const a = treeNodes(whole);
    const r = treeNodes(ranged);
    const i = a.findIndex((x, k) => x !== r[k]);
    assert.ok(i < 0 && a.length === r.length, `${label}: the ranged parse differs at node ${i}: ${a[i]} vs ${r[i]}`);
  } finally {
    whole.delete();
    ranged.delete();
  }
  return b.gaps.length;
}

const APIS = new Set(['pin_user_pages_fast', 'unpin_user_page']);

const SHAPES: Record<string, string> = {
  directiveBefore: '#include <linux/mm.h>\n#if defined(CONFIG_X)\n\nstatic int quiet(int a)\n{\n\treturn a + 1;\n}\n#endif\n\nint pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p);\n}\n',
  defineBefore: '#define LIMIT 4\nstatic int quiet(int a)\n{\n\treturn a + LIMIT;\n}\nint pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p);\n}\n',
  crlf: '#include <x.h>\r\n\r\nstatic int quiet(int a)\r\n{\r\n\treturn a;\r\n}\r\n\r\nint pin(unsigned long a, struct page **p)\r\n{\r\n\treturn pin_user_pages_fast(a, 1, 0, p);\r\n}\r\n',
  multibyte: '/* caf\u00e9 \u{1f427} */\nint pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p); /* \u00e9 */\n}\n\nstatic const char *quiet(void)\n{\n\treturn "\u00e9\u00e9 \u{1f427}";\n}\n\nint after(struct page *p) { unpin_user_page(p); return 0; }\n',
  atTheEnd: 'int pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p);\n}\nstatic int quiet(int a)\n{\n\treturn a;\n}',
  oneLiners: 'int pin(unsigned long a, struct page **p) { return pin_user_pages_fast(a, 1, 0, p); }\nstatic int q1(int a) { return a; }\nstatic int q2(int a)\n{ return a; }\n',
  brokenNear: 'static int quiet(int a)\n{\n\treturn a;\n}\nint pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p)\n}\nstatic int quiet2(int a)\n{\n\treturn a;\n}\n',
};

test('ranged parse: the same tree as the blanked text on hand-made shapes and every fixture', async () => {
  const parser = await loadCParser();
  let gaps = 0;
  for (const [name, text] of Object.entries(SHAPES)) gaps += compare(parser, text, APIS, name);
  assert.ok(gaps >= Object.keys(SHAPES).length, `every shape should skip something (${gaps} gaps)`);
  const apis = relevantApiNames();
  let skipped = 0;
  for (const f of fixtureFiles()) skipped += compare(parser, readFileSync(f, 'utf8'), apis, f);
  assert.ok(skipped > 0, 'some fixture should have a blanked function');
});

test('ranged parse: the same tree on real Linux 6.1 files', { skip: !existsSync(LINUX) && `no Linux 6.1 tree at ${LINUX}` }, async () => {
  const parser = await loadCParser();
  const apis = relevantApiNames();
  const files = ['mm/gup.c', 'mm/memory.c', 'fs/iomap/buffered-io.c', 'fs/btrfs/ioctl.c', 'drivers/gpu/drm/amd/amdgpu/amdgpu_amdkfd_gpuvm.c',
    'drivers/gpu/drm/amd/amdgpu/amdgpu_debugfs.c', 'drivers/gpu/drm/i915/gem/i915_gem_userptr.c', 'drivers/vhost/vhost.c', 'lib/iov_iter.c', 'kernel/events/core.c'];
  let gaps = 0;
  for (const f of files) if (existsSync(join(LINUX, f))) gaps += compare(parser, readFileSync(join(LINUX, f), 'utf8'), apis, f);
  assert.ok(gaps > 50, `real files should have blanked functions (${gaps} gaps)`);
});
