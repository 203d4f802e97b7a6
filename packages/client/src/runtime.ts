import type { FetchLike } from './types.js';

// The core is compiled without DOM or Node types, so the few globals it needs (present in
// browsers and Node 20 alike) are described here and read at call time, which also lets
// tests swap in fake timers.
interface RuntimeGlobals {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  crypto: { randomUUID(): string };
  fetch?: FetchLike;
}

const g = globalThis as unknown as RuntimeGlobals;

export type TimerHandle = unknown;

export function setTimer(callback: () => void, ms: number): TimerHandle {
  return g.setTimeout(callback, ms);
}

export function clearTimer(handle: TimerHandle): void {
  if (handle !== undefined && handle !== null) g.clearTimeout(handle);
}

export function randomId(): string {
  return g.crypto.randomUUID();
}

export function globalFetch(): FetchLike | undefined {
  return typeof g.fetch === 'function' ? g.fetch.bind(globalThis) : undefined;
}
