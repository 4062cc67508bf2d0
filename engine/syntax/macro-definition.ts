// Functions defined through a macro: `SYSCALL_DEFINE3(name, type, arg, ...) { ... }`,
// `BPF_CALL_2(name, ...) { ... }`, `DEFINE_INTERRUPT_HANDLER(name) { ... }`. The grammar reads
// the head as a call and the body as a block; the lowering (engine/lower/index.ts macroFunction)
// lowers the pair as a function, and the batch relevance filters (engine/syntax/blank-irrelevant.ts
// on the text, engine/lower/relevance.ts on the tree) must know that the item defines that name:
// a function they cannot name sends the file down the whole-text path (relevance-graph.ts
// unaccountedFunction), which lowered every function of net/core/filter.c, fs/namespace.c,
// kernel/exit.c and eight more Linux 6.1 files.

/** `SYSCALL_DEFINEn` and `COMPAT_SYSCALL_DEFINEn`: their arguments after the name are type, name pairs. */
const SYSCALL_DEFINE = /^(COMPAT_)?SYSCALL_DEFINE\d$/;

export function isSyscallDefine(macro: string): boolean {
  return SYSCALL_DEFINE.test(macro);
}

/**
 * The name the lowering gives the function a `macro(args) { ... }` pair defines, from the macro's
 * name and its first argument: `SYSCALL_DEFINEn(x, ...)` is `sys_x`, `COMPAT_SYSCALL_DEFINEn(x,
 * ...)` is `compat_sys_x`, any other macro is named after its first argument when that is an
 * identifier, else after the macro itself.
 */
export function macroDefinitionName(macro: string, firstArg: string): string {
  const syscall = SYSCALL_DEFINE.exec(macro);
  if (syscall) return `${syscall[1] ? 'compat_sys_' : 'sys_'}${firstArg}`;
  return /^[A-Za-z_]\w*$/.test(firstArg) ? firstArg : macro;
}

/**
 * The first top-level argument of `inner` (an argument list without its parentheses), trimmed,
 * white space runs made single spaces (as the lowering reads it).
 */
export function firstMacroArgument(inner: string): string {
  return (splitTopLevelCommas(inner)[0]?.text ?? '').replace(/\s+/g, ' ').trim();
}

/** Top-level comma-separated pieces of `s`, each with its offset in `s` (leading spaces trimmed). */
export function splitTopLevelCommas(s: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let depth = 0;
  let last = 0;
  const push = (end: number): void => {
    const raw = s.slice(last, end);
    const lead = raw.length - raw.trimStart().length;
    out.push({ text: raw.trim(), start: last + lead });
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) {
      push(i);
      last = i + 1;
    }
  }
  push(s.length);
  return out;
}

/**
 * For a definition head as text (`SYSCALL_DEFINE2(umount, char __user *, name, int, flags)`,
 * comments already removed): the names a definition with that head may get, or none when the
 * head is not `IDENT(...)`. The lowering's name (macroDefinitionName), and the first argument
 * itself when it is an identifier: the grammar reads `SYSCALL_DEFINE0(rt_sigreturn) { ... }` as
 * a definition of `rt_sigreturn` with the macro as its type. A name too many only keeps more.
 */
export function macroDefinitionNamesOfHead(head: string): string[] {
  const m = /^\s*([A-Za-z_]\w*)\s*\(([\s\S]*)\)\s*$/.exec(head);
  if (!m) return [];
  const first = firstMacroArgument(m[2]);
  const name = macroDefinitionName(m[1], first);
  return name !== first && /^[A-Za-z_]\w*$/.test(first) ? [name, first] : [name];
}
