export * from './decode';
export * from './files';
