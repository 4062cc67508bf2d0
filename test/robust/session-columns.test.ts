// Regression (fuzz run, seed 31, input 32008): in a file whose lines end in a lone CR, tree-sitter
// sees one row, so every function starts on the row an edit touches. An edit inside one function
// moved the next one along that row, but the session kept that function's cache key (which holds
// its start column) and returned its cached finding at the old column. The engine (a fresh
// analysis) is right; the session must say the same after the edit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../../engine/findings';
import { afterEdit, analyzeFresh, engine } from './harness';

const helper = (extra: string): string[] => [
  'static void qv_drop(struct page **pages, int nr)', '{', '\tint i;', '',
  `\tfor (i = 0; i < nr; i++)${extra}`, '\t\tput_page(pages[i]);', '}', '',
];
// Does not call qv_drop: the edit of qv_drop leaves its key alone, so only the column can change.
const user = [
  'static int qv_fill(struct qv_req *rq, struct iov_iter *it)', '{', '\tstruct page *pages[8];', '\tsize_t off;', '\tssize_t got;', '',
  '\tgot = iov_iter_get_pages2(it, pages, 8 * PAGE_SIZE, 8, &off);', '\tif (got <= 0)', '\t\treturn got;',
  '\tif (qv_full(rq))', '\t\treturn -EINVAL;',
  '\tqv_release(pages, DIV_ROUND_UP(got + off, PAGE_SIZE));', '\treturn 0;', '}', '',
];

// Also the end and the offset: a stale cached finding keeps its old column.
const columns = (fs: Finding[]) => fs.map((f) => `${f.range.startRow}:${f.range.startCol}-${f.range.endRow}:${f.range.endCol} ${f.range.start} ${f.rule} ${f.function} ${f.message}`).sort();

async function sessionAndEngine(before: string, after: string): Promise<{ session: string[]; engine: string[]; relowered: number }> {
  const e = await engine();
  const { got, stats } = await afterEdit(e, '/qv.c', before, after);
  return { session: columns(got.findings), engine: columns(analyzeFresh(e, after, { path: 'qv.c' }).findings), relowered: stats.relowered };
}

for (const [name, eol] of [['lone CR', '\r'], ['two functions on one line', '\n']] as const) {
  test(`session after an edit that moves the next function along its row (${name}): the engine's columns`, async () => {
    const text = (extra: string): string =>
      eol === '\r' ? [...helper(extra), ...user].join('\r')
        // Both functions on one line (a generated or minified file).
        : `${[...helper(extra), ...user].map((l) => l.trim()).join(' ')}\n`;
    const r = await sessionAndEngine(text(''), text(' /* every page the caller got */'));
    assert.equal(r.relowered, 1, 'the one-function path (only the edited function lowered again)');
    assert.equal(r.engine.length, 1, r.engine.join('\n'));
    assert.match(r.engine[0], /gup-leak qv_fill/);
    assert.deepEqual(r.session, r.engine);
  });
}
