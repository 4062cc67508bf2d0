// Patch input: parse (unified diff, git format-patch, mbox), rebuild pre/post images, analyze.
export * from './parse';
export * from './fragments';
export * from './analyze';
export * from './apply';
export { splitLines } from './lines';
export * from './series';
