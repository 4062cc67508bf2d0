// Progress of a long `faultline check` on stderr (issue 10): files done / total, rate and ETA on
// one line rewritten in place, only when stderr is a terminal (a pipe or a log file gets nothing
// extra). Redrawn at most every 100 ms of wall time; display only, never part of a result.

export interface Progress {
  update(done: number): void;
  /** Erase the line (before the findings and problems are printed). */
  end(): void;
}

const NOOP: Progress = { update: () => undefined, end: () => undefined };

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s - m * 60)).padStart(2, '0')}s`;
}

/** The progress line for `done` of `total` files after `elapsedMs`. */
export function progressLine(done: number, total: number, elapsedMs: number): string {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? done / secs : 0;
  const pct = total ? Math.floor((100 * done) / total) : 100;
  const eta = rate > 0 ? duration((total - done) / rate) : '?';
  return `faultline: ${done}/${total} files (${pct}%), ${Math.round(rate)} files/s, ETA ${eta}`;
}

/**
 * A progress reporter writing to `write` when `tty` is true; a no-op otherwise. `now` is the
 * clock (tests pass their own).
 */
export function createProgress(total: number, opts: { tty: boolean; write: (s: string) => void; now?: () => number; minIntervalMs?: number }): Progress {
  if (!opts.tty || total <= 0) return NOOP;
  const now = opts.now ?? (() => Date.now());
  const every = opts.minIntervalMs ?? 100;
  const start = now();
  let last = -Infinity;
  let shown = false;
  return {
    update(done: number) {
      const t = now();
      if (t - last < every && done < total) return;
      last = t;
      shown = true;
      // \r and erase-to-end-of-line: the same line, whatever its previous length.
      opts.write(`\r${progressLine(done, total, t - start)}\x1b[K`);
    },
    end() {
      if (shown) opts.write('\r\x1b[K');
      shown = false;
    },
  };
}
