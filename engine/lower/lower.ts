// Alias of engine/lower/index.ts for callers that import './lower/lower'.
export { lowerTree, lowerC, type LowerOptions } from './index';
