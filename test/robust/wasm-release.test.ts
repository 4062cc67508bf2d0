// Issue 11 (seed 7 #13999, 8 MB of repeated functions): the wasm memory a large parse grows
// (240 MiB for that input) is never given back by the instance, so every later input of the
// process (a fuzz child, an editor session) carried it. After a parse that leaves the instance
// past RELEASE_MEMORY_ABOVE, the next parserReady() replaces it. Counts bytes, not time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankKernelMacros } from '../../engine/syntax/macros';
import { loadCParser, memoryReleases, parserReady, RELEASE_MEMORY_ABOVE, wasmMemoryBytes } from '../../engine/syntax/parser';
import { repeatedFile } from './reproducers';

test('a parse that grows the wasm memory past the release bound gives it back at the next parserReady()', async () => {
  const parser = await loadCParser();
  await parserReady();
  const small = blankKernelMacros(repeatedFile(10));
  parser.parse(small).delete();
  const before = memoryReleases.count;
  assert.ok(wasmMemoryBytes() < RELEASE_MEMORY_ABOVE, `small parse: ${wasmMemoryBytes()} bytes`);
  // A function of 360,000 statements (under the token bound, MAX_PARSE_TOKENS): the tree alone needs more than the bound.
  const text = 'void demo_fill(void)\n{\n' + '\tx;\n'.repeat(360_000) + '}\n';
  const tree = parser.parse(text);
  const grown = wasmMemoryBytes();
  tree.delete();
  assert.ok(grown > RELEASE_MEMORY_ABOVE, `large parse grew the instance to ${grown} bytes`);
  assert.equal(memoryReleases.count, before + 1);
  await parserReady();
  assert.ok(wasmMemoryBytes() < RELEASE_MEMORY_ABOVE / 2, `after parserReady(): ${wasmMemoryBytes()} bytes`);
  // The parser works on the fresh instance, and a small parse does not ask for another.
  const again = parser.parse(small);
  assert.equal(again.rootNode.hasError, false);
  again.delete();
  assert.equal(memoryReleases.count, before + 1);
});
