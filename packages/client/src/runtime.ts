import type { TransportResponse } from './file-types.js';
import type { AbortSignalLike, FetchLike } from './platform-types.js';

/** The global `fetch` as the file transport uses it (any body, a signal, a streamed answer). */
export type RawFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: unknown; signal?: unknown },
) => Promise<TransportResponse>;

/** What the client needs of `AbortController` (browsers and Node 20 have it). */
export interface AbortControllerLike {
  readonly signal: AbortSignalLike;
  abort(reason?: unknown): void;
}

// The core is compiled without DOM or Node types, so the few globals it needs (present in
// browsers and Node 20 alike) are described here and read at call time, which also lets
// tests swap in fake timers.
interface RuntimeGlobals {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Present in every browser context (secure or not) and Node 20; `randomUUID` is not (plain http). */
  crypto: { getRandomValues(array: Uint8Array): Uint8Array };
  fetch?: FetchLike & RawFetch;
  AbortController: new () => AbortControllerLike;
  TextDecoder: new () => { decode(bytes: Uint8Array): string };
}

const g = globalThis as unknown as RuntimeGlobals;

export type TimerHandle = unknown;

export function setTimer(callback: () => void, ms: number): TimerHandle {
  return g.setTimeout(callback, ms);
}

export function clearTimer(handle: TimerHandle): void {
  if (handle !== undefined && handle !== null) g.clearTimeout(handle);
}

/**
 * A random message id in UUID v4 format (122 random bits). Built on `getRandomValues` because
 * browsers only offer `crypto.randomUUID` in secure contexts, and a chat opened as
 * `http://<LAN address>` must still be able to send.
 */
export function randomId(): string {
  const b = g.crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40; // version 4
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function globalFetch(): FetchLike | undefined {
  return typeof g.fetch === 'function' ? g.fetch.bind(globalThis) : undefined;
}

export function globalRawFetch(): RawFetch | undefined {
  return typeof g.fetch === 'function' ? g.fetch.bind(globalThis) : undefined;
}

export function abortController(): AbortControllerLike {
  return new g.AbortController();
}

export function decodeUtf8(bytes: Uint8Array): string {
  return new g.TextDecoder().decode(bytes);
}
