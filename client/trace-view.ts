// The simulation trace as a VS Code webview (issue 8): the verdict and its one-line reason on
// top, one lane per thread/CPU, each step a link to its source line, and what changed at that
// step (refcount, pte bits, lock holders, bytes copied, fault address) beside it. Pure HTML from
// the server's Simulate result: strict CSP (nothing but our nonce'd style and script), no remote
// content; a click posts { line } to the extension, which reveals the line in the source editor.

export interface TraceViewStep {
  thread: number;
  range?: { start: { line: number; character: number } };
  operation: string;
  delta?: string;
  note?: string;
}

export interface TraceViewInput {
  function: string;
  verdict: string;
  arch: string;
  kernel: string;
  note: string;
  decisive: number;
  steps: TraceViewStep[];
  profiles?: { arch: string; verdict: string }[];
  /** Thread names by index (else CPU<n>). */
  threads?: string[];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The reason in one line: the verdict's note, cut at a word boundary near 240 characters. */
function oneLine(note: string): string {
  const flat = note.replace(/\s+/g, ' ').trim();
  if (flat.length <= 240) return flat;
  const cut = flat.slice(0, 240);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 200))} ...`;
}

export function traceViewHtml(r: TraceViewInput, nonce: string, cspSource = ''): string {
  const lanes = Math.max(1, ...r.steps.map((s) => s.thread + 1));
  const head = [...Array(lanes).keys()].map((i) => `<th>${esc(r.threads?.[i] ?? `CPU${i}`)}</th>`).join('');
  const rows = r.steps.map((s, i) => {
    const line = s.range ? s.range.start.line + 1 : undefined;
    const op = line !== undefined
      ? `<a href="#" class="step" data-line="${line - 1}" title="go to line ${line}">L${line}</a> <code>${esc(s.operation)}</code>`
      : `<code>${esc(s.operation)}</code>`;
    const delta = s.delta ? `<div class="delta">${esc(s.delta)}</div>` : '';
    const note = s.note ? `<div class="note">${esc(s.note)}</div>` : '';
    const cells = [...Array(lanes).keys()].map((t) => (t === s.thread ? `<td class="lane">${op}${note}</td><td class="state">${delta}</td>` : '<td class="lane"></td><td class="state"></td>')).join('');
    return `<tr class="${i === r.decisive ? 'decisive' : ''}"><td class="n">${i + 1}</td>${cells}</tr>`;
  }).join('\n');
  const profiles = (r.profiles ?? []).map((p) => `<span class="p ${esc(p.verdict)}">${esc(p.arch)}: ${esc(p.verdict)}</span>`).join(' ');
  const csp = [`default-src 'none'`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, ...(cspSource ? [] : [])].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${esc(r.function)}(): ${esc(r.verdict)}</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); }
h1 { font-size: 1.2em; margin: 0.3em 0; } .reason { margin: 0 0 0.6em 0; }
.verdict { text-transform: uppercase; font-weight: bold; } .livelock, .deadlock, .underflow, .leak, .data-loss { color: var(--vscode-errorForeground); }
table { border-collapse: collapse; width: 100%; } th { text-align: left; border-bottom: 1px solid var(--vscode-panel-border); }
td { vertical-align: top; padding: 2px 6px; } td.n { color: var(--vscode-descriptionForeground); text-align: right; }
td.state { color: var(--vscode-descriptionForeground); font-size: 0.9em; border-right: 1px solid var(--vscode-panel-border); }
tr.decisive { background: var(--vscode-editor-selectionBackground); } .note { font-size: 0.9em; color: var(--vscode-descriptionForeground); }
.p { margin-right: 1em; } code { line-height: 1.6; }
</style></head>
<body>
<h1>${esc(r.function)}(): <span class="verdict ${esc(r.verdict)}">${esc(r.verdict)}</span>${r.arch ? ` on ${esc(r.arch)}` : ''} (kernel ${esc(r.kernel)})</h1>
<p class="reason">${esc(oneLine(r.note))}</p>
<p>${profiles}</p>
<table><thead><tr><th>#</th>${[...Array(lanes).keys()].map((i) => `${head.split('</th>')[i]}</th><th>state changed</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
for (const a of document.querySelectorAll('a.step')) {
  a.addEventListener('click', (e) => { e.preventDefault(); vscode.postMessage({ line: Number(a.dataset.line) }); });
}
</script>
</body></html>`;
}
