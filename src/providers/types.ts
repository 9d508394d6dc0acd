export type * from '../core/adapter.ts';
