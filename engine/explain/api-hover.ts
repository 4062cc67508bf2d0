// Hover text for a kernel function the API table knows: what a reviewer needs in five seconds —
// signature, what it does to the refcount / pin count, how to release, what the return means,
// version, source. Rendered only from the table's data, generically per facet, so entries other
// families add later render too.

import { allApis, lookupApi } from '../kernel/api-table';
import type { ApiEntry } from '../kernel/api-schema';
import type { RefEffect } from '../kernel/api/refs-schema';

/** GUP_PIN_COUNTING_BIAS (include/linux/mm.h; Documentation/core-api/pin_user_pages.rst). */
const PIN_BIAS = 1024;

const KIND_WORDS: Record<string, string> = {
  get: '+1 ref per page (FOLL_GET)',
  pin: `+GUP_PIN_COUNTING_BIAS (${PIN_BIAS}) per small page; +1 ref and +1 pincount per large folio (FOLL_PIN)`,
  flags: `+1 ref per page (FOLL_GET); with FOLL_PIN in gup_flags, +GUP_PIN_COUNTING_BIAS (${PIN_BIAS}) per small page (FOLL_PIN)`,
};

function argName(e: ApiEntry, index: number): string {
  // The signature is data; pull the parameter name out of it so the hover speaks C.
  const m = /\((.*)\)\s*$/.exec(e.signature);
  if (!m) return `argument ${index + 1}`;
  const params = m[1].split(',').map((p) => p.trim());
  const p = params[index];
  if (!p) return `argument ${index + 1}`;
  const id = /([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(p);
  return id ? `\`${id[1]}\`` : `argument ${index + 1}`;
}

/** Release functions in the table that fit pages taken with `kind`. */
function releasesFor(kind: 'get' | 'pin', pageType: string, header: string): string[] {
  const all = allApis().filter((e) => {
    const r = e.refs;
    return r && r.op === 'release' && r.kind === kind && !r.container && !e.removed && e.signature.includes(pageType);
  });
  // Shortest names first: the per-page and batch releases (put_page, release_pages) before
  // historic or dirtying variants; ties broken by the acquisition's own header.
  return all
    .sort((a, b) => a.name.length - b.name.length || Number(b.header === header) - Number(a.header === header) || a.name.localeCompare(b.name))
    .map((e) => e.name)
    .slice(0, 3);
}

function acquireLines(e: ApiEntry, r: Extract<RefEffect, { op: 'acquire' }>): string[] {
  const out: string[] = [];
  const what = r.single ? `the page ${argName(e, r.pagesArg)}` : `each page stored into ${argName(e, r.pagesArg)}${r.allocatesArray ? ' (array allocated by the call)' : ''}`;
  out.push(`**Takes:** ${KIND_WORDS[r.kind]} — on ${what}.`);
  if (r.mayTakeNothing) out.push(`*May take nothing:* ${r.mayTakeNothing}.`);
  const kinds: ('get' | 'pin')[] = r.kind === 'flags' ? ['get', 'pin'] : [r.kind];
  const rel = kinds.map((k) => {
    const names = releasesFor(k, /struct folio/.test(e.signature) ? 'struct folio' : 'struct page', e.header);
    return `${k === 'pin' ? 'FOLL_PIN' : 'FOLL_GET'} → ${names.length ? names.map((n) => `\`${n}()\``).join(' / ') : '(no release in the table)'}`;
  });
  out.push(`**Release with:** ${rel.join('; ')}.`);
  const ret: Record<string, string> = {
    'count-or-errno': `number of pages taken — **may be fewer than ${r.countArg !== undefined ? argName(e, r.countArg) : 'asked'}**; negative only when none. Release exactly the returned count, and nothing when ≤ 0.`,
    'count-nonneg': 'number of pages taken, 0 on failure (never negative); may be fewer than asked.',
    'bytes-or-errno': 'bytes covered by the pages taken, or -errno when none; derive the page count from it.',
    bool: 'true if the reference was taken (release only then).',
    void: 'nothing: the reference is always taken.',
  };
  out.push(`**Returns:** ${ret[r.returns]}`);
  if (r.byArity) {
    const ar = Object.entries(r.byArity).map(([n, a]) => `${n} args → pages is argument ${a.pagesArg + 1}`);
    out.push(`*Arities:* ${ar.join('; ')}.`);
  }
  return out;
}

function refsLines(e: ApiEntry, r: RefEffect): string[] {
  if (r.op === 'acquire') return acquireLines(e, r);
  if (r.op === 'release') {
    const which = r.kind === 'either' ? 'pages taken either way (FOLL_GET or FOLL_PIN, chosen by the object\'s own state)' :
      r.kind === 'pin' ? `FOLL_PIN pages (−${PIN_BIAS} per small page)` : 'FOLL_GET pages (−1 ref per page)';
    const target = r.container ? `the pages held by ${argName(e, r.pagesArg)}` :
      r.single ? argName(e, r.pagesArg) : `the first ${r.countArg !== undefined ? argName(e, r.countArg) : 'n'} entries of ${argName(e, r.pagesArg)}`;
    const out = [`**Releases:** ${target}; correct for ${which}.`];
    if (r.kind === 'get') out.push(`Using it on pinned pages leaks ${PIN_BIAS - 1} refs per page (page stays "maybe DMA pinned").`);
    if (r.kind === 'pin') out.push(`Using it on FOLL_GET pages subtracts ${PIN_BIAS} from a +1 ref: underflow.`);
    if (r.countArg !== undefined) out.push(`Pass the count the acquisition **returned**, not the count asked for.`);
    if (r.dirties) out.push(`Dirties pages ${r.dirties === 'by-flag' ? 'under the page lock when its flag is true' : r.dirties === 'locked' ? 'under the page lock' : 'without the page lock'}.`);
    return out;
  }
  if (r.op === 'unmap') return [`**Removes a mapping** of ${argName(e, r.pagesArg)}: the reference that mapping held is then the caller's to drop.`];
  const fail: Record<string, string> = {
    'returns-zero': 'returns 0 when it did not take the page (the caller still owns it)',
    'returns-nonzero': 'returns non-zero when it did not take the page',
    'returns-negative': 'returns -errno when it did not take the page',
    never: 'never fails',
  };
  return [`**Takes ownership** of the reference on ${argName(e, r.pagesArg)}${r.failure ? `; ${fail[r.failure]}` : ''}.`];
}

/** Any facet this file does not know: rendered as its fields, so new families show up. */
function genericFacet(e: ApiEntry, name: string, value: unknown): string {
  if (value === null || typeof value !== 'object') return `**${name}:** ${String(value)}`;
  const parts = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    // `userArg: 0` reads better as the parameter's name.
    .map(([k, v]) => `${k}: ${/Arg$/.test(k) && typeof v === 'number' ? argName(e, v) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return `**${name}:** ${parts.join(', ')}`;
}

const CORE_KEYS = new Set(['name', 'signature', 'header', 'since', 'removed', 'summary', 'returns', 'source', 'refs']);

export function explainApi(name: string): string | undefined {
  const e = lookupApi(name);
  if (!e) return undefined;
  const lines: string[] = [];
  lines.push(['```c', `${e.signature};`, '```'].join('\n'));
  lines.push(e.summary);
  if (e.refs) lines.push(...refsLines(e, e.refs));
  if (e.returns && !(e.refs && e.refs.op === 'acquire')) lines.push(`**Returns:** ${e.returns}`);
  for (const [k, v] of Object.entries(e)) {
    if (CORE_KEYS.has(k) || v === undefined) continue;
    lines.push(genericFacet(e, k, v));
  }
  const ver = [e.since ? `since ${e.since}` : '', e.removed ? `removed in ${e.removed}` : ''].filter(Boolean).join(', ');
  lines.push(`*${e.header}${ver ? ` — ${ver}` : ''}${e.source ? ` — source: ${e.source}` : ''}*`);
  return lines.join('\n\n');
}
