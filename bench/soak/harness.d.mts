// Types for harness.mjs, for the TypeScript tests that run it short (packages/client/test/reliability).
export { DOCUMENTED_CODES } from './codes.mjs';

/** One invariant and whether the run kept it. */
export interface SoakCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SoakOptions {
  requests?: number;
  seed?: number;
  inFlight?: number;
  maxParallel?: number;
  timeout?: number;
  maxRequestRetries?: number;
  warmup?: number;
  tail?: number;
  faults?: string[];
  heapSlack?: number;
  rssFactor?: number;
  rssSlack?: number;
  /** Builds the client under test instead of the stock IProto. */
  createClient?: (...args: any[]) => any;
  onProgress?: (...args: any[]) => void;
  log?: (line: string) => void;
}

export interface SoakResult {
  ok: boolean;
  checks: SoakCheck[];
  stats: Record<string, any>;
  chaos: { kind: string; [field: string]: unknown }[];
  /** [error code or 'ok', count] pairs. */
  outcomes: [string, number][];
}

export const FULL: Required<Omit<SoakOptions, 'maxParallel' | 'createClient' | 'onProgress' | 'log'>> & {
  maxParallel: number | undefined;
};
export function runSoak(options?: SoakOptions): Promise<SoakResult>;
export function requestSpec(seed: number, id: number, timeout: number): any;
export function chaosSchedule(seed: number, faults: string[], warmupShare: number, tail: number): any[];
export function mb(bytes: number): string;
