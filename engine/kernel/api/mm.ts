import type { ApiEntry } from '../api-schema';

// uaccess, fault_in_*, locks, pagefault_disable, memory-model operations (SEMANTICS.md A, B, D-I).
export const mmApis: ApiEntry[] = [];
