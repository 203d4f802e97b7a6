import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckBatcher } from '../../src/ack-batcher.js';
import { httpBase, wsUrl } from '../../src/http.js';
import { localStorageAdapter, memoryStorage } from '../../src/index.js';
import { observable } from '../../src/observable.js';
import { SeenSet } from '../../src/seen-set.js';

describe('AckBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends only the latest cursor, at most delayMs after the first one', () => {
    const acks: string[] = [];
    const b = new AckBatcher((c) => acks.push(c), 100, 100);
    b.processed('c1');
    b.processed('c2');
    b.processed('c3');
    vi.advanceTimersByTime(99);
    expect(acks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(acks).toEqual(['c3']);
    vi.advanceTimersByTime(1000);
    expect(acks).toEqual(['c3']);
  });

  it('flushes at once when the batch size is reached', () => {
    const acks: string[] = [];
    const b = new AckBatcher((c) => acks.push(c), 100, 100);
    for (let i = 1; i <= 99; i++) b.processed(`c${i}`);
    expect(acks).toEqual([]);
    b.processed('c100');
    expect(acks).toEqual(['c100']);
    for (let i = 101; i <= 250; i++) b.processed(`c${i}`);
    expect(acks).toEqual(['c100', 'c200']);
    vi.advanceTimersByTime(100);
    expect(acks).toEqual(['c100', 'c200', 'c250']);
    b.flush();
    expect(acks).toHaveLength(3);
  });
});

describe('SeenSet', () => {
  it('forgets the oldest key past its capacity', () => {
    const s = new SeenSet(3);
    for (const k of ['a', 'b', 'c', 'd']) s.add(k);
    expect(s.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => s.has(k))).toBe(true);
    s.add('d');
    expect(s.size).toBe(3);
  });
});

describe('URLs', () => {
  it('derives the HTTP base and the /ws URL', () => {
    expect(httpBase('http://h:1/')).toBe('http://h:1');
    expect(httpBase('wss://h/x')).toBe('https://h/x');
    expect(wsUrl('http://h:1')).toBe('ws://h:1/ws');
    expect(wsUrl('https://h/prefix/')).toBe('wss://h/prefix/ws');
  });
});

describe('observable', () => {
  it('notifies on change only, and stops after unsubscribe', () => {
    const o = observable({ state: 'a' });
    const seen: string[] = [];
    const off = o.subscribe((v) => seen.push(v.state));
    o.set({ state: 'a' });
    o.set({ state: 'b' });
    off();
    o.set({ state: 'c' });
    expect(seen).toEqual(['b']);
    expect(o.get()).toEqual({ state: 'c' });
  });
});

describe('storage adapters', () => {
  it('memoryStorage and localStorageAdapter round-trip', () => {
    const m = memoryStorage();
    m.set('k', 'v');
    expect(m.get('k')).toBe('v');
    m.remove('k');
    expect(m.get('k')).toBeNull();
    const backing = new Map<string, string>();
    const ls = localStorageAdapter({
      getItem: (k) => backing.get(k) ?? null,
      setItem: (k, v) => backing.set(k, v),
      removeItem: (k) => backing.delete(k),
    });
    ls.set('x', '1');
    expect(backing.get('x')).toBe('1');
    expect(ls.get('x')).toBe('1');
    ls.remove('x');
    expect(ls.get('x')).toBeNull();
  });
});
