// The kernel version defaults to the tree's own (issue 8): the top-level Makefile above the file,
// or the --tree / workspace root; a subdirectory's Makefile is not a top-level one.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTreeVersionCache, makefileVersion, treeRootVersion, treeVersionOf } from '../../../engine/input/tree-version';
import { runSimulateCommand } from '../../../engine/sim/simulate-command';

// Every directory a test makes is removed when the file's tests end (nothing left in /tmp).
const made: string[] = [];
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

function tree(version: string, patch: string, extra = ''): string {
  const root = scratchDir('faultline-tree-');
  writeFileSync(join(root, 'Makefile'), `# top\nVERSION = ${version}\nPATCHLEVEL = ${patch}\nSUBLEVEL = 3\nEXTRAVERSION =${extra}\nNAME = Test\n`);
  mkdirSync(join(root, 'fs', 'demo'), { recursive: true });
  writeFileSync(join(root, 'fs', 'demo', 'Makefile'), 'obj-y += demo.o\n');
  return root;
}

test('makefileVersion reads VERSION / PATCHLEVEL (and an -rc EXTRAVERSION) of a top-level Makefile only', () => {
  assert.equal(makefileVersion('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n'), 'v6.1');
  assert.equal(makefileVersion('VERSION = 5\nPATCHLEVEL = 17\nEXTRAVERSION = -rc8\n'), 'v5.17-rc8');
  assert.equal(makefileVersion('VERSION = 5\nPATCHLEVEL = 10\nEXTRAVERSION = -custom\n'), 'v5.10');
  assert.equal(makefileVersion('obj-y += demo.o\n'), undefined);
  assert.equal(makefileVersion('VERSION = six\nPATCHLEVEL = 1\n'), undefined);
});

test('treeVersionOf walks up from a file past subdirectory Makefiles; treeRootVersion reads one root', () => {
  clearTreeVersionCache();
  const root = tree('5', '10');
  const file = join(root, 'fs', 'demo', 'demo.c');
  writeFileSync(file, 'int x;\n');
  assert.deepEqual(treeVersionOf(file), { version: 'v5.10', makefile: join(root, 'Makefile') });
  assert.equal(treeVersionOf(join(root, 'fs'))?.version, 'v5.10');
  assert.equal(treeRootVersion(root)?.version, 'v5.10');
  assert.equal(treeRootVersion(join(root, 'fs', 'demo')), undefined, 'a subdirectory Makefile is not a tree root');
  const bare = scratchDir('faultline-notree-');
  assert.equal(treeRootVersion(bare), undefined);
});

test('faultline simulate FILE judges with the tree\'s version unless --kernel says otherwise', async () => {
  clearTreeVersionCache();
  // fault_in_writeable() before v5.16 returned 0 / -EFAULT: the loop below exits on a partial
  // fault-in only with the new convention. Whatever the verdict, the kernel shown is the tree's.
  const root = tree('5', '10');
  const file = join(root, 'fs', 'demo', 'demo.c');
  writeFileSync(file, `
static long demo_fill(char __user *ubuf, size_t len, const void *rec)
{
	while (1) {
		if (fault_in_writeable(ubuf, len))
			return -EFAULT;
		if (!copy_to_user_nofault(ubuf, rec, len))
			return 0;
	}
}
`);
  const run = async (argv: string[]) => {
    let out = '';
    await runSimulateCommand(argv, { out: (s) => { out += s; }, err: (s) => { out += s; } });
    return out;
  };
  const own = await run([file, '--function', 'demo_fill', '--arch', 'x86_64']);
  assert.match(own, /kernel v5\.10: /);
  assert.match(own, /\(kernel v5\.10, from .*Makefile; --kernel overrides\)/);
  const forced = await run([file, '--function', 'demo_fill', '--arch', 'x86_64', '--kernel', 'v6.1']);
  assert.match(forced, /kernel v6\.1: /);
  assert.doesNotMatch(forced, /from .*Makefile/);
});
