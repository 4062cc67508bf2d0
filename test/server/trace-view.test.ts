// The trace webview's HTML (issue 8): strict CSP with a nonce, no remote content, one lane per
// CPU, steps linked to their source lines, state beside each step, verdict and reason on top.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceViewHtml } from '../../client/trace-view';

const result = {
  function: 'demo_dump', verdict: 'livelock', arch: 'arm64-mte', kernel: 'v6.1', decisive: 2,
  note: 'fault_in_writeable probed one byte per page; the copy faulted at 0x7f0000010f90 again. More detail here.',
  profiles: [{ arch: 'x86_64', verdict: 'ok' }, { arch: 'arm64-mte', verdict: 'livelock' }],
  steps: [
    { thread: 0, range: { start: { line: 11, character: 2 } }, operation: 'fault_in_writeable(ubuf, len)', delta: 'returned 0' },
    { thread: 1, operation: 'sim_user_write(addr)', delta: 'page #0 refcount 2 -> 3' },
    { thread: 0, range: { start: { line: 13, character: 2 } }, operation: 'copy_to_user_nofault(ubuf, <x>, 32)', note: 'faulted at 0x7f0000010f90' },
  ],
};

test('trace panel: CSP with the nonce only, no remote content, every inline block nonce\'d', () => {
  const html = traceViewHtml(result, 'N0NCE');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-N0NCE'; script-src 'nonce-N0NCE'">/);
  assert.doesNotMatch(html, /https?:\/\//, 'no remote content');
  assert.equal((html.match(/<script/g) ?? []).length, (html.match(/<script nonce="N0NCE">/g) ?? []).length);
  assert.equal((html.match(/<style/g) ?? []).length, (html.match(/<style nonce="N0NCE">/g) ?? []).length);
  assert.doesNotMatch(html, / on[a-z]+="/, 'no inline event handlers (CSP would block them)');
});

test('trace panel: verdict and one-line reason on top, a lane per CPU, links to lines, state beside steps', () => {
  const html = traceViewHtml(result, 'n');
  assert.match(html, /<h1>demo_dump\(\): <span class="verdict livelock">livelock<\/span> on arm64-mte \(kernel v6\.1\)<\/h1>/);
  assert.match(html, /<p class="reason">fault_in_writeable probed one byte per page; the copy faulted at 0x7f0000010f90 again\. More detail here\.<\/p>/);
  const long = traceViewHtml({ ...result, note: 'word '.repeat(100) }, 'n');
  assert.match(long, /<p class="reason">(word ){30,}\.\.\.<\/p>/, 'a long reason is cut to one line');
  assert.match(html, /<th>CPU0<\/th><th>state changed<\/th><th>CPU1<\/th><th>state changed<\/th>/);
  assert.match(html, /data-line="11" title="go to line 12">L12<\/a>/);
  assert.match(html, /<td class="state"><div class="delta">page #0 refcount 2 -&gt; 3<\/div><\/td>/);
  assert.match(html, /<tr class="decisive">/);
  assert.match(html, /&lt;x&gt;/, 'operation text is escaped');
});
