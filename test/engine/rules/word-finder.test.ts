// The per-rule relevance scan (engine/rules/rule-relevance.ts wordFinder) marks which words of the
// rules' conditions occur in a file. It must mark exactly what one search per word marks: a word
// it misses would leave a rule out (a lost finding), one too many only costs time. Random texts
// built from the words' own pieces, identifier characters, digits (a name glued to a number
// counts) and characters above 0xff (they only move the window) are compared with the naive
// search, for word sets that take each of the scan's shapes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { naiveWordFinder, wordFinder } from '../../../engine/rules/rule-relevance';
import { rng } from '../../../bench/generate-corpus';

test('wordFinder marks exactly the words one search per word marks', () => {
  const sets: { words: string[]; whole: boolean[] }[] = [
    // a few short words on their own, Wu-Manber over the others (window 7)
    { words: ['kmap', 'vmap', 'vm_end', 'get_user_pages', 'put_page', 'FOLL_WRITE', 'unpin_user_pages'], whole: [true, true, false, true, true, false, true] },
    // no short word: one window of 8
    { words: ['put_page', 'get_page', 'pin_user_pages_fast', 'mmap_lock'], whole: [true, true, true, false] },
    // too many short words to search one by one: one window of 3 over all
    { words: ['abc', 'bcd', 'cab', 'dab', 'ebb', 'get_page'], whole: [false, true, false, true, false, true] },
    // a two-character word: the naive search itself
    { words: ['ab', 'put_page'], whole: [true, false] },
  ];
  const r = rng(29);
  for (const { words, whole } of sets) {
    const fast = wordFinder(words, whole);
    const slow = naiveWordFinder(words, whole);
    const alphabet = 'abcdegkmpu_v019 \n(.\'é中' + words.join('').slice(0, 30);
    for (let i = 0; i < 4000; i++) {
      let s = '';
      const len = Math.floor(r() * 50);
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(r() * alphabet.length)];
      // Plant words (or most of one) now and then, at random places.
      for (let p = 0; p < 3; p++) {
        if (r() >= 0.5) continue;
        const w = words[Math.floor(r() * words.length)];
        const cut = r() < 0.6 ? w : w.slice(0, Math.max(1, w.length - 1 - Math.floor(r() * 3)));
        const at = Math.floor(r() * (s.length + 1));
        s = s.slice(0, at) + cut + s.slice(at);
      }
      assert.deepEqual([...fast(s)], [...slow(s)], `${words.join(',')}: ${JSON.stringify(s)}`);
    }
  }
});
