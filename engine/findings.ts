// What every check produces and every face (CLI, server) prints. Engine-internal positions
// (see engine/ir.ts): UTF-16 offsets, 0-based rows and columns.

import type { SourceRange } from './ir';

export type Severity = 'error' | 'warning' | 'info';

export interface RelatedLocation {
  range: SourceRange;
  message: string;
}

export interface TextEdit {
  range: SourceRange;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

/** One step of a simulator trace (ARCHITECTURE.md "A trace is a list of steps"). */
export interface TraceStep {
  thread: number;
  range?: SourceRange;
  operation: string;
  delta?: string;
  note?: string;
  /** What the step did, typed (rules read these, never the words of `note`). */
  facts?: StepFacts;
}

/** Typed facts of one simulator step (engine/sim). */
export interface StepFacts {
  /** A user copy: bytes asked and copied, where it faulted when it fell short, whether faults were serviced. */
  copy?: { asked: number; copied: number; faultAt?: number; serviced: boolean };
  /** A fault-in: the range it was asked for and what it returned (`ok`: it reported success). */
  faultIn?: { addr: number; len: number; ret: number; ok: boolean };
  /** An adversary choice: the result of a call the model does not know, or an input. */
  choice?: { of: string; value: number; among: number };
  /** Part of a live-lock cycle: its first lap, or the lap that shows the state repeating. */
  cycle?: 'first' | 'again';
  /** The state at the end of this step repeats an earlier one (the live-lock verdict). */
  sameState?: boolean;
  /** A precondition assumed from the caller (a lock or reference released without being taken here). */
  precondition?: string;
  /**
   * The kernel makes progress here that the model does not keep in its state (iomap_iter()
   * advancing iter->pos and iter->len by the previous round's result): a cycle of states through
   * this step cannot repeat in the kernel, so it is never a live-lock.
   */
  unmodelledProgress?: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  range: SourceRange;
  /** Name of the enclosing C function. */
  function: string;
  related: RelatedLocation[];
  /** Architecture profile where it fails, when that matters. */
  arch?: string;
  trace?: TraceStep[];
  /** Who runs each thread of `trace`, by index (`clear_refs_write()`, "another thread: mmap_write_lock()..."). */
  traceThreads?: string[];
  fixes?: QuickFix[];
  /** A simulated finding: what each profile's verdict covered (hover; engine/sim/coverage.ts). */
  simulation?: ProfileCoverage[];
}

/** One profile's verdict and, in the words `faultline simulate` prints, what it covered or why not. */
export interface ProfileCoverage {
  arch: string;
  verdict: string;
  covered: string;
}

/** A problem with the input itself (binary file, broken patch), not with the code. */
export interface InputProblem {
  message: string;
  range?: SourceRange;
  /**
   * 'error' (the default when absent): the input could not be read in full (binary file, truncated
   * hunk); the CLI exits 2. 'info': worth saying but not an error (a binary hunk in a patch).
   */
  severity?: 'error' | 'warning' | 'info';
}
