// Hover text is markdown (for editors); the terminal wants plain text.

export function markdownToText(md: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const raw of md.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(raw)) { inFence = !inFence; continue; }
    if (inFence) { out.push(raw.trim() ? '    ' + raw : ''); continue; }
    let l = raw;
    if (/^\s*(---+|\*\*\*+|___+)\s*$/.test(l)) { out.push(''); continue; }
    l = l.replace(/^#{1,6}\s+/, '');
    l = l.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1');
    l = l.replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, t: string, u: string) => (t === u ? t : `${t} (${u})`));
    l = l.replace(/(\*\*|__)(.+?)\1/g, '$2');
    l = l.replace(/(^|[^\w*])\*(?!\s)([^*]+?)\*(?!\w)/g, '$1$2');
    l = l.replace(/`([^`]+)`/g, '$1');
    l = l.replace(/<\/?[a-z][^>]*>/gi, '');
    l = l.replace(/\\([\\`*_{}[\]()#+\-.!|])/g, '$1');
    out.push(l);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+|\s+$/g, '');
}
