// Issue 4 in the editor, over real stdio: the fault-window hover, the "Simulate" code lens, the
// "Simulate this function" code action, and workspace/executeCommand running the simulator with
// window/workDoneProgress and cancellation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capsWithProgress, LspClient, openAndWait, positionOf, withLspServer, type Message } from './lsp-client';
import { endlessCounterC, searchIoctlC } from './simulate-fixtures';
import { mergeSettings, parseSettings } from '../../server/settings';

const uri = 'file:///work/demo/fs/demo/demo_ioctl.c';
const slowUri = 'file:///work/demo/fs/demo/demo_ring.c';
const SERVER_CMD = 'faultline.server.simulate';

// Every server here accepts work-done progress (window/workDoneProgress/create: the default
// answer, null, is a success too).
const withServer = (fn: (c: LspClient) => Promise<void>, init: unknown = {}): Promise<void> => withLspServer(fn, init, capsWithProgress());

test('initialize advertises faultline.server.simulate (not faultline.simulate, which the VS Code client owns)', async () => {
  await withServer(async (c) => {
    const init = c.received.find((m) => m.id === 1)?.result;
    assert.deepEqual(init.capabilities.executeCommandProvider.commands, [SERVER_CMD]);
    assert.equal(init.capabilities.executeCommandProvider.workDoneProgress, true);
  });
});

test('hover on copy_to_user_nofault and on fault_in_writeable shows the fault window, merged with the API text', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const copyPos = positionOf(searchIoctlC, 'copy_to_user_nofault(ubuf + *pos, &hdr', 3);
    const h = await c.request('textDocument/hover', { textDocument: { uri }, position: copyPos });
    assert.ok(h, 'a hover on the copy');
    assert.equal(h.contents.kind, 'markdown');
    const v: string = h.contents.value;
    assert.match(v, /Fault window of `copy_to_user_nofault\(\)`/);
    assert.match(v, /arm64-mte/, 'per profile');
    assert.match(v, /16-byte granule/, 'says the MTE granule');
    assert.match(v, /fault_in_writeable/, 'names the fault-in that retries it');
    assert.match(v, /\n---\n/, 'the API hover follows as its own section');
    assert.equal(h.range.start.line, copyPos.line);

    const fiPos = positionOf(searchIoctlC, 'fault_in_writeable(ubuf + pos', 2);
    const f = await c.request('textDocument/hover', { textDocument: { uri }, position: fiPos });
    assert.ok(f, 'a hover on the fault-in');
    assert.match(f.contents.value, /Fault-in `fault_in_writeable\(\)`/);
    assert.match(f.contents.value, /ubuf \+ pos/, 'quotes the arguments as written');
    assert.match(f.contents.value, /copy_to_user_nofault/, 'names the copy it guards');

    // The loop head: the retry loop's own summary.
    const headPos = positionOf(searchIoctlC, 'while (1)', 1);
    const l = await c.request('textDocument/hover', { textDocument: { uri }, position: headPos });
    assert.ok(l, 'a hover on the loop head');
    assert.match(l.contents.value, /Fault-in retry loop/);

    // A plain line of the helper without a call: no fault window.
    const plain = positionOf(searchIoctlC, 'return a + 1', 2);
    const none = await c.request('textDocument/hover', { textDocument: { uri }, position: plain });
    assert.ok(!none || !/Fault window|Fault-in/.test(none.contents.value), JSON.stringify(none));
  });
});

test('code lens: a Simulate lens on the function with the retry loop only, beside the informational lens', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const lenses: any[] = await c.request('textDocument/codeLens', { textDocument: { uri } });
    const sim = lenses.filter((l) => l.command?.title === 'Simulate');
    assert.equal(sim.length, 1, JSON.stringify(lenses));
    assert.equal(sim[0].command.command, 'faultline.simulate');
    assert.deepEqual(sim[0].command.arguments, [{ uri, function: 'demo_lookup_ioctl' }]);
    assert.equal(sim[0].range.start.line, positionOf(searchIoctlC, 'demo_lookup_ioctl(').line);
    const info = lenses.filter((l) => l.command?.title !== 'Simulate' && l.range.start.line === sim[0].range.start.line);
    assert.ok(info.length >= 1, 'the informational lens stays');
  });
});

test('code action "Simulate this function" inside the looping function, not in the plain helper, not for only=quickfix', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const at = positionOf(searchIoctlC, 'demo_put_node(node)');
    const ask = (position: { line: number; character: number }, only?: string[]) =>
      c.request('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [], ...(only ? { only } : {}) } });
    const actions: any[] = await ask(at);
    const sim = actions.filter((a) => a.title === 'Simulate this function');
    assert.equal(sim.length, 1, JSON.stringify(actions));
    assert.equal(sim[0].command.command, 'faultline.simulate');
    assert.deepEqual(sim[0].command.arguments, [{ uri, function: 'demo_lookup_ioctl' }]);
    const inHelper: any[] = await ask(positionOf(searchIoctlC, 'return a + 1'));
    assert.ok(!inHelper.some((a) => a.title === 'Simulate this function'), JSON.stringify(inHelper));
    const quickfixOnly: any[] = await ask(at, ['quickfix']);
    assert.ok(!quickfixOnly.some((a) => a.title === 'Simulate this function'));
  });
});

function progressOf(c: LspClient, token: unknown, since: number): any[] {
  return c.received.slice(since).filter((m) => m.method === '$/progress' && JSON.stringify(m.params.token) === JSON.stringify(token)).map((m) => m.params.value);
}

test('executeCommand runs the simulation: livelock on arm64-mte, steps with LSP ranges, trace, progress begin/end', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const since = c.received.length;
    const token = 'sim-1';
    const r = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'demo_lookup_ioctl' }], workDoneToken: token }, 60000);
    assert.ok(r, 'a result');
    assert.equal(r.verdict, 'livelock');
    assert.equal(r.arch, 'arm64-mte');
    assert.equal(r.uri, uri);
    assert.equal(r.function, 'demo_lookup_ioctl');
    assert.equal(r.version, 1);
    assert.equal(r.cancelled, false);
    assert.ok(r.statesExplored > 0);
    const byArch = Object.fromEntries(r.profiles.map((p: any) => [p.arch, p.verdict]));
    assert.equal(byArch['arm64-mte'], 'livelock');
    assert.equal(byArch.x86_64, 'ok', 'byte-exact faults: the fault-in covers the stop point');
    assert.ok(r.steps.length > 3);
    const lines = searchIoctlC.split('\n');
    for (const s of r.steps.filter((x: any) => x.range)) {
      assert.equal(typeof s.range.start.line, 'number');
      assert.ok(s.range.start.line < lines.length && s.range.start.character >= 0, JSON.stringify(s));
    }
    // A step on the fault-in call points at that very line (LSP 0-based).
    const fi = r.steps.find((s: any) => s.operation.startsWith('fault_in_writeable'));
    assert.ok(fi, JSON.stringify(r.steps.map((s: any) => s.operation)));
    assert.equal(fi.range.start.line, positionOf(searchIoctlC, 'fault_in_writeable(ubuf + pos').line);
    assert.ok(r.steps.some((s: any) => s.operation.startsWith('copy_to_user_nofault') && /fault/.test(s.note ?? '')), 'the copy that faults');
    // The trace document links each step to its source line.
    assert.match(r.trace, /^# demo_lookup_ioctl\(\): livelock on arm64-mte/);
    assert.ok(r.trace.includes(`(${uri}#L${fi.range.start.line + 1})`), r.trace);
    assert.equal(r.traceUri, 'faultline-trace:/demo_lookup_ioctl.md');
    // Progress on the client's token: begin ... end.
    const values = progressOf(c, token, since);
    assert.equal(values[0]?.kind, 'begin', JSON.stringify(values));
    assert.match(values[0].title, /demo_lookup_ioctl/);
    assert.equal(values[0].cancellable, true);
    assert.equal(values[values.length - 1].kind, 'end');
  });
});

test('executeCommand without a client token: the server creates the progress (window/workDoneProgress/create)', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const since = c.received.length;
    const r = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'demo_lookup_ioctl', arch: 'x86_64' }] }, 60000);
    assert.equal(r.verdict, 'ok');
    assert.equal(r.arch, 'x86_64');
    const create = c.received.slice(since).find((m) => m.method === 'window/workDoneProgress/create');
    assert.ok(create, c.summary());
    const values = progressOf(c, create!.params.token, since);
    assert.deepEqual([values[0]?.kind, values[values.length - 1]?.kind], ['begin', 'end']);
  });
});

test('executeCommand on an unknown function answers inconclusive with the error; bad arguments answer null', async () => {
  await withServer(async (c) => {
    await openAndWait(c, uri, searchIoctlC);
    const r = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'demo_no_such' }] }, 60000);
    assert.equal(r.verdict, 'inconclusive');
    assert.match(r.error, /no function "demo_no_such"/);
    const bad = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri }] });
    assert.equal(bad, null);
  });
});

async function cancelTest(how: 'request'): Promise<void> {
  await withServer(
    async (c) => {
      await openAndWait(c, slowUri, endlessCounterC);
      const since = c.received.length;
      const id = 900;
      const token = `slow-${how}`;
      const started = Date.now();
      const reply = c.waitFor((m: Message) => m.id === id && m.method === undefined, 40000, since, 'the simulate reply');
      c.write({ jsonrpc: '2.0', id, method: 'workspace/executeCommand', params: { command: SERVER_CMD, arguments: [{ uri: slowUri, function: 'demo_fill_counted' }], workDoneToken: token } });
      await c.waitFor((m) => m.method === '$/progress' && m.params?.token === token && m.params.value?.kind === 'begin', 20000, since, 'progress begin');
      await new Promise((r) => setTimeout(r, 400));
      const cancelAt = Date.now();
      if (how === 'request') c.notify('$/cancelRequest', { id });
      else c.notify('window/workDoneProgress/cancel', { token });
      // An edit after the start does not cancel (only the request/progress does): the result says so.
      c.notify('textDocument/didChange', { textDocument: { uri: slowUri, version: 2 }, contentChanges: [{ text: `${endlessCounterC}\n` }] });
      const m = await reply;
      const took = Date.now() - cancelAt;
      assert.ok(took < 2500, `the cancel ended the run in ${took} ms (run time ${Date.now() - started} ms)`);
      if (m.error) {
        assert.equal(m.error.code, -32800, 'RequestCancelled');
      } else {
        assert.equal(m.result.verdict, 'inconclusive', JSON.stringify(m.result).slice(0, 400));
        assert.equal(m.result.cancelled, true);
        assert.equal(m.result.version, 1);
      }
      const values = progressOf(c, token, since);
      assert.equal(values[values.length - 1]?.kind, 'end');
    },
    // A budget no run meets by itself: only the cancel can end it early.
    { simulation: { maxStates: 5_000_000, timeMs: 60000 } },
  );
}

test('cancelling with $/cancelRequest ends a long simulation promptly (inconclusive, cancelled)', () => cancelTest('request'));

test('cancelling the progress (window/workDoneProgress/cancel) ends a long simulation promptly', async () => {
  // The client-created token is cancelled through the request; the server-created one through
  // window/workDoneProgress/cancel: test the latter with no client token.
  await withServer(
    async (c) => {
      await openAndWait(c, slowUri, endlessCounterC);
      const since = c.received.length;
      const id = 901;
      const reply = c.waitFor((m: Message) => m.id === id && m.method === undefined, 40000, since, 'the simulate reply');
      c.write({ jsonrpc: '2.0', id, method: 'workspace/executeCommand', params: { command: SERVER_CMD, arguments: [{ uri: slowUri, function: 'demo_fill_counted' }] } });
      const create = await c.waitFor((m) => m.method === 'window/workDoneProgress/create', 20000, since, 'progress create');
      const token = create.params.token;
      await c.waitFor((m) => m.method === '$/progress' && m.params?.token === token && m.params.value?.kind === 'begin', 20000, since, 'progress begin');
      // The explored states are reported as the runs finish.
      const report = await c.waitFor((m) => m.method === '$/progress' && m.params?.token === token && m.params.value?.kind === 'report', 20000, since, 'a progress report');
      assert.match(report.params.value.message, /^\d+ states explored$/);
      // An edit meanwhile does not cancel it; the result names the version it ran on.
      c.notify('textDocument/didChange', { textDocument: { uri: slowUri, version: 2 }, contentChanges: [{ text: `${endlessCounterC}\n` }] });
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(!c.received.slice(since).some((m) => m.id === id && m.method === undefined), 'an edit does not end the simulation');
      const cancelAt = Date.now();
      c.notify('window/workDoneProgress/cancel', { token });
      const m = await reply;
      const took = Date.now() - cancelAt;
      assert.ok(took < 2500, `ended ${took} ms after the cancel`);
      assert.ok(m.result, JSON.stringify(m));
      assert.equal(m.result.verdict, 'inconclusive');
      assert.equal(m.result.cancelled, true);
      assert.equal(m.result.version, 1);
      assert.equal(m.result.currentVersion, 2);
      const values = progressOf(c, token, since);
      assert.equal(values[values.length - 1]?.kind, 'end');
    },
    { simulation: { maxStates: 5_000_000, timeMs: 60000 } },
  );
});

test('settings: faultline.simulation.maxStates / timeMs in every shape clients send', () => {
  assert.deepEqual(parseSettings({ faultline: { simulation: { maxStates: 5000, timeMs: 2000 } } }), { simulationMaxStates: 5000, simulationTimeMs: 2000 });
  assert.deepEqual(parseSettings({ 'faultline.simulation.maxStates': 7 }), { simulationMaxStates: 7 });
  assert.deepEqual(parseSettings({ 'simulation.maxStates': '9' }), { simulationMaxStates: 9 });
  assert.deepEqual(parseSettings({ simulation: { maxStates: 0, timeMs: -3 } }), {}, 'non-positive budgets are ignored');
  assert.deepEqual(parseSettings({ simulation: { maxStates: 1e15 } }), { simulationMaxStates: 50_000_000 });
  assert.equal(mergeSettings({ simulationMaxStates: 3 }, { simulationMaxStates: 4 }).simulationMaxStates, 4);
});

test('the maxStates setting reaches the simulator: a budget of 1 state decides nothing', async () => {
  await withServer(
    async (c) => {
      await openAndWait(c, uri, searchIoctlC);
      const r = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'demo_lookup_ioctl' }] }, 60000);
      assert.equal(r.verdict, 'inconclusive', JSON.stringify({ verdict: r.verdict, profiles: r.profiles, bound: r.bound }));
      assert.equal(r.cancelled, false);
    },
    { simulation: { maxStates: 1 } },
  );
});

test('a running simulation does not block the server: hover answers meanwhile', async () => {
  await withServer(
    async (c) => {
      await openAndWait(c, uri, searchIoctlC);
      await openAndWait(c, slowUri, endlessCounterC);
      const since = c.received.length;
      const id = 902;
      const token = 'slow-responsive';
      c.write({ jsonrpc: '2.0', id, method: 'workspace/executeCommand', params: { command: SERVER_CMD, arguments: [{ uri: slowUri, function: 'demo_fill_counted' }], workDoneToken: token } });
      await c.waitFor((m) => m.method === '$/progress' && m.params?.token === token && m.params.value?.kind === 'begin', 20000, since, 'progress begin');
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const h = await c.request('textDocument/hover', { textDocument: { uri }, position: positionOf(searchIoctlC, 'fault_in_writeable(ubuf + pos', 2) }, 5000);
      const took = Date.now() - t0;
      assert.ok(h && /Fault-in/.test(h.contents.value));
      assert.ok(took < 1500, `hover took ${took} ms during a simulation`);
      assert.ok(!c.received.slice(since).some((m) => m.id === id && m.method === undefined), 'the simulation was still running');
      c.notify('$/cancelRequest', { id });
      await c.waitFor((m: Message) => m.id === id && m.method === undefined, 10000, since, 'the simulate reply');
    },
    { simulation: { maxStates: 5_000_000, timeMs: 60000 } },
  );
});

test('simulating the same function again supersedes the run still going', async () => {
  await withServer(
    async (c) => {
      await openAndWait(c, slowUri, endlessCounterC);
      const since = c.received.length;
      const first = 903;
      const params = { command: SERVER_CMD, arguments: [{ uri: slowUri, function: 'demo_fill_counted' }] };
      const firstReply = c.waitFor((m: Message) => m.id === first && m.method === undefined, 40000, since, 'the first reply');
      c.write({ jsonrpc: '2.0', id: first, method: 'workspace/executeCommand', params: { ...params, workDoneToken: 'first' } });
      await c.waitFor((m) => m.method === '$/progress' && m.params?.token === 'first' && m.params.value?.kind === 'begin', 20000, since, 'first begin');
      const second = 904;
      const t0 = Date.now();
      c.write({ jsonrpc: '2.0', id: second, method: 'workspace/executeCommand', params: { ...params, workDoneToken: 'second' } });
      const m = await firstReply;
      assert.ok(Date.now() - t0 < 2500, 'the first run ended promptly');
      assert.equal(m.result.cancelled, true, JSON.stringify({ ...m.result, trace: undefined, steps: undefined }));
      assert.ok(!c.received.slice(since).some((x) => x.id === second && x.method === undefined), 'the second one is still running');
      c.notify('$/cancelRequest', { id: second });
      const m2 = await c.waitFor((x: Message) => x.id === second && x.method === undefined, 10000, since, 'the second reply');
      assert.ok(m2.error || m2.result.cancelled);
    },
    { simulation: { maxStates: 5_000_000, timeMs: 60000 } },
  );
});
