// Neovim end to end (issue 2 point 4): real Neovim 0.7 (Debian's `neovim`), its built-in LSP
// client, headless, runs the bundled server on a fixture and we assert the diagnostics (rule
// codes and lines, taken from the fixture's `// expect:` marks) and a hover. Recipe and traps
// from ../shared/E2E.md: no user state, `start_client` (0.7 has no vim.lsp.start), xpcall +
// cquit (a Lua error would otherwise hang headless nvim), io.stdout:write, always under timeout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eSkip, requireTool } from './helpers/skip';

const root = join(__dirname, '..', '..', '..');
const fixture = join(root, 'test', 'e2e', 'workspace', 'demo_dma.c');
// The bundle editors run; FAULTLINE_SERVER overrides it (as in test/server/lsp-client.ts).
const server = process.env.FAULTLINE_SERVER ?? join(root, 'dist', 'server.js');
const MARKER = 'FAULTLINE_NVIM_RESULT ';

/** `// expect: <rule-id>` marks: the diagnostics the fixture must produce, 0-based lines. */
function expectations(text: string): { rule: string; line: number }[] {
  const out: { rule: string; line: number }[] = [];
  text.split('\n').forEach((l, line) => {
    for (const m of l.matchAll(/\/\/ expect: ([a-z0-9-]+)/g)) out.push({ rule: m[1], line });
  });
  return out;
}

function luaString(s: string): string {
  return JSON.stringify(s); // a JSON string literal is a valid Lua string literal for our paths
}

function script(opts: {
  node: string;
  server: string;
  file: string;
  root: string;
  expected: number;
  hover: { line: number; character: number };
  /** Text of the line the script rewrites to fix the leak. */
  leakLine: string;
}): string {
  return `
local function run()
  vim.cmd('edit ' .. vim.fn.fnameescape(${luaString(opts.file)}))
  local buf = vim.api.nvim_get_current_buf()
  -- -u NONE disables filetype detection (E2E.md): say it ourselves.
  vim.bo[buf].filetype = 'c'
  local id = vim.lsp.start_client({
    name = 'faultline',
    cmd = { ${luaString(opts.node)}, ${luaString(opts.server)}, '--stdio' },
    root_dir = ${luaString(opts.root)},
    get_language_id = function() return 'c' end,
  })
  assert(id, 'start_client failed')
  vim.lsp.buf_attach_client(buf, id)
  local got = vim.wait(30000, function() return #vim.diagnostic.get(buf) >= ${opts.expected} end, 50)
  -- Give a late, extra diagnostic a moment to arrive so the test sees the full set.
  vim.wait(300, function() return false end, 50)
  local diags = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local href = nil
    local lsp = d.user_data and d.user_data.lsp
    if lsp and lsp.codeDescription then href = lsp.codeDescription.href end
    table.insert(diags, { lnum = d.lnum, col = d.col, code = d.code, source = d.source, message = d.message, severity = d.severity, href = href })
  end
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = ${opts.hover.line}, character = ${opts.hover.character} } }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000)
  local hover = nil
  for _, r in pairs(responses or {}) do
    if r.result and r.result.contents then hover = r.result.contents.value or r.result.contents end
  end
  -- Fix the leak by typing (Neovim sends an incremental didChange): release before the early return.
  local fixed_codes = nil
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i, l in ipairs(lines) do
    if l:find(${luaString(opts.leakLine)}, 1, true) then
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { '\\t\\t{ put_page(page); return -EINTR; }' })
      vim.wait(30000, function() return #vim.diagnostic.get(buf) == ${opts.expected} - 1 end, 50)
      fixed_codes = {}
      for _, d in ipairs(vim.diagnostic.get(buf)) do table.insert(fixed_codes, d.code) end
      break
    end
  end
  io.stdout:write(${luaString(MARKER)} .. vim.fn.json_encode({ waited = got, diagnostics = diags, hover = hover, fixed = fixed_codes }) .. '\\n')
  vim.lsp.stop_client(id)
  vim.wait(2000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  io.stdout:write('FAULTLINE_NVIM_ERROR ' .. tostring(err) .. '\\n')
  vim.cmd('cquit 3')
end
vim.cmd('qall!')
`;
}

test('Neovim (built-in LSP client, headless) shows the diagnostics and a hover', { skip: e2eSkip(), timeout: 120000 }, () => {
  const nvim = requireTool('nvim', 'apt-get install -y neovim');
  const timeoutBin = requireTool('timeout', 'coreutils');
  assert.ok(existsSync(server), `the server bundle ${server} (run node scripts/build.mjs)`);

  const text = readFileSync(fixture, 'utf8');
  const expected = expectations(text);
  assert.ok(expected.length >= 2, 'the fixture names its findings');
  const lines = text.split('\n');
  const hoverLine = lines.findIndex((l) => l.includes('pin_user_pages_fast('));
  const hover = { line: hoverLine, character: lines[hoverLine].indexOf('pin_user_pages_fast') + 3 };

  const tmp = mkdtempSync(join(tmpdir(), 'faultline-nvim-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: tmp };
    for (const x of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) {
      env[x] = join(tmp, x.toLowerCase());
      mkdirSync(env[x]!, { recursive: true });
    }
    const lua = join(tmp, 'faultline-e2e.lua');
    const leak = expected.find((x) => x.rule === 'gup-leak');
    assert.ok(leak, 'the fixture has a gup-leak to fix');
    const leakLine = lines[leak!.line].trim();
    writeFileSync(lua, script({ node: process.execPath, server, file: fixture, root: join(root, 'test', 'e2e', 'workspace'), expected: expected.length, hover, leakLine }));
    const r = spawnSync(timeoutBin, ['90', nvim, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${lua}`], {
      env,
      encoding: 'utf8',
      cwd: tmp,
      maxBuffer: 1 << 24,
    });
    const out = r.stdout ?? '';
    const errLine = out.split('\n').find((l) => l.startsWith('FAULTLINE_NVIM_ERROR'));
    assert.equal(errLine, undefined, `the Lua test script failed: ${errLine}\nstderr: ${r.stderr}`);
    assert.notEqual(r.status, 124, `nvim timed out\nstdout: ${out}\nstderr: ${r.stderr}`);
    assert.equal(r.status, 0, `nvim exit status ${r.status}\nstdout: ${out}\nstderr: ${r.stderr}`);
    const line = out.split('\n').find((l) => l.startsWith(MARKER));
    assert.ok(line, `no result from nvim\nstdout: ${out}\nstderr: ${r.stderr}`);
    const result = JSON.parse(line!.slice(MARKER.length)) as {
      waited: boolean;
      diagnostics: { lnum: number; col: number; code: string; source: string; message: string; severity: number; href?: string }[];
      hover?: string;
      fixed?: string[];
    };

    const seen = result.diagnostics.map((d) => ({ rule: d.code, line: d.lnum })).sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
    const want = [...expected].sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
    assert.deepEqual(seen, want, `diagnostics in Neovim: ${JSON.stringify(result.diagnostics, null, 1)}`);
    for (const d of result.diagnostics) {
      assert.equal(d.source, 'faultline');
      assert.equal(d.severity, 1, 'ERROR');
      assert.ok(d.message.length > 10);
      assert.match(d.href ?? '', new RegExp(`/docs/rules/${d.code}\\.md$`));
    }
    assert.ok(result.hover, 'a hover on pin_user_pages_fast');
    assert.match(result.hover!, /pin_user_pages_fast/);
    assert.match(result.hover!, /unpin_user_page/);
    // After the edit in Neovim, the leak is gone and the other finding stays.
    assert.deepEqual(
      [...(result.fixed ?? [])].sort(),
      expected.filter((x) => x !== leak).map((x) => x.rule).sort(),
      'diagnostics after fixing the leak in the buffer',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
