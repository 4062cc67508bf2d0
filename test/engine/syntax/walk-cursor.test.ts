import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser, openWalkCursor, type WalkCursor } from '../../../engine/syntax/parser';
import { mirrorTree } from '../../../engine/lower/syntax-tree';

const SOURCE = `
static int demo_pin(struct demo_dev *dev, unsigned long uaddr, int nr)
{
	struct page **pages = dev->pages;
	int ret = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (ret < 0)
		return ret
	for (i = 0; i < ret; i++)
		unpin_user_page(pages[i]);
	return 0;
}
static void demo_tail(void) { int x = (1 + ; }
`;

/** Every node in pre-order with the public TreeCursor: type, field, offsets, missing. */
function publicWalk(tree: import('../../../engine/syntax/parser').Tree): string[] {
  const c = tree.walk();
  const out: string[] = [];
  for (;;) {
    out.push(`${c.nodeTypeId}/${c.currentFieldId}/${c.startIndex}-${c.endIndex}/${c.nodeIsMissing}/${c.currentNode.hasError}`);
    if (c.gotoFirstChild()) continue;
    while (!c.gotoNextSibling()) {
      if (!c.gotoParent()) {
        c.delete();
        return out;
      }
    }
  }
}

function walkWith(c: WalkCursor, during?: () => void): string[] {
  const out: string[] = [];
  let n = 0;
  for (;;) {
    out.push(`${c.typeId()}/${c.fieldId()}/${c.startIndex()}-${c.endIndex()}/${c.isMissing()}/${c.hasError()}`);
    if (++n % 7 === 0 && during) c.outside(during);
    if (c.gotoFirstChild()) continue;
    while (!c.gotoNextSibling()) {
      if (!c.gotoParent()) {
        c.delete();
        return out;
      }
    }
  }
}

test('the walk cursor sees the same nodes as the public TreeCursor, errors and MISSING included', async () => {
  const p = await loadCParser();
  const tree = p.parse(SOURCE);
  const want = publicWalk(tree);
  assert.ok(want.some((s) => s.endsWith('/true/true')), 'the fixture has a MISSING node');
  assert.deepEqual(walkWith(openWalkCursor(tree)), want);
  tree.delete();
});

test('other tree-sitter calls inside outside() do not disturb the walk', async () => {
  const p = await loadCParser();
  const tree = p.parse(SOURCE);
  const other = p.parse('int g(void) { return 2; }');
  const want = publicWalk(tree);
  // A cancellation callback that touches another tree (and the transfer buffer) mid-walk.
  const got = walkWith(openWalkCursor(tree), () => {
    const c = other.walk();
    c.gotoFirstChild();
    void c.nodeTypeId;
    void other.rootNode.firstChild?.text;
    c.delete();
  });
  assert.deepEqual(got, want);
  tree.delete();
  other.delete();
});

test('mirrorTree: every mirrored node has the offsets tree-sitter gives it, in clean and broken items', async () => {
  const p = await loadCParser();
  // A clean function (offsets read on the way out) next to a broken one (carried up).
  const text = 'static int f(int a)\n{\n\tif (a > 1) /* c */\n\t\treturn a + 1;\n\treturn 0; // tail\n}\n' +
    'static int g(int b)\n{\n\tif (b > 1) /* c */\n\t\treturn (b + ;\n\treturn 0; // tail\n}\n';
  const tree = p.parse(text);
  const { root, problems } = mirrorTree(tree);
  assert.ok(problems.length > 0);
  let compared = 0;
  const same = (s: import('../../../engine/lower/syntax-tree').SNode, n: import('../../../engine/syntax/parser').SyntaxNode): void => {
    assert.equal(s.type, n.type);
    assert.equal(s.start, n.startIndex, `${s.type} start`);
    assert.equal(s.end, n.endIndex, `${s.type} end at ${s.start}`);
    compared++;
    const kids = s.children.filter((c) => c.named);
    if (!s.children.length) return; // a leaf or a subtree read only as text
    const want = n.namedChildren.filter((c): c is NonNullable<typeof c> => !!c && c.type !== 'comment');
    assert.equal(kids.length, want.length, `${s.type} children`);
    kids.forEach((k, i) => same(k, want[i]));
  };
  same(root.children[0], tree.rootNode.namedChildren[0]!);
  same(root.children[1], tree.rootNode.namedChildren[1]!);
  assert.ok(compared > 20);
  tree.delete();
});
