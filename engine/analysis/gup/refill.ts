// An array filled again: the slots a new acquisition fills held the pages of an earlier one.
//
// A loop that fills the same array each round (a chunk array on the stack, or one the call
// allocates: `iov_iter_get_pages2(it, vec, ...)` or `iov_iter_get_pages_alloc2(it, &vec, ...)`
// picked by a size test) settles each round's pages before the next fill: hands them to a bio,
// drops the rest. When the round after takes the other call, the array's slots hold the new
// call's pages; the earlier acquisition's pages are nowhere in this function any more. Keeping
// it in the path state makes the next round's release loop over the array release it "again"
// (a double release that is not there) and multiplies the states a loop head carries (one per
// combination of settled acquisitions), until the state cap is reached.
//
// Only settled acquisitions are replaced: pages still held (or partly released, or lent) when
// the array is filled again are lost references, which the leak rule reports as it did.

import type { GupAcquisition, Status } from '../gup-refs';

/** Statuses after which this function has nothing left to do with the pages. */
const SETTLED: ReadonlySet<Status> = new Set<Status>(['released', 'handed', 'escaped']);

/**
 * Ids of acquisitions in `acqs` whose slots `fill` fills again: another call site, into the same
 * array at the same offset (a sub-range fill that advances, `pages + done`, takes new slots and
 * replaces nothing), with every page of it settled on this path.
 */
export function refilledIds(
  fill: GupAcquisition,
  acqs: readonly { id: number; status: Status }[],
  acquisitions: readonly GupAcquisition[],
): number[] {
  if (fill.accumulates) return [];
  const out: number[] = [];
  for (const a of acqs) {
    if (a.id === fill.id || !SETTLED.has(a.status)) continue;
    const old = acquisitions[a.id];
    if (old.accumulates || old.single !== fill.single) continue;
    if (old.arrayKey !== fill.arrayKey || (old.offsetKey ?? '') !== (fill.offsetKey ?? '')) continue;
    out.push(a.id);
  }
  return out;
}
