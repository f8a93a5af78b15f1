export * from './codec';
export * from './crypto';
export * from './encoding';
export * from './ids';
export * from './limits';
export * from './messages';
export * from './topics';
export * from './verification';
