import type { ApiEntry } from '../api-schema';

// GUP acquire / release / hand-off family (SEMANTICS.md C). Owned by the GUP rules work.
export const gupApis: ApiEntry[] = [];
