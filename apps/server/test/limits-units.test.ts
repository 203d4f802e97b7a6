import { describe, expect, it } from 'vitest';
import { ReadRefused, ReadScheduler } from '../src/ws/read-scheduler.js';
import { TYPING_INTERVAL_MS, TypingThrottle } from '../src/ws/typing-throttle.js';

describe('ReadScheduler', () => {
  it('starts reads round-robin across users, a few per turn: a late user waits one turn, not for a whole queue', async () => {
    const sched = new ReadScheduler({ rate: 1e9, clock: () => 0, perTurn: 4, turnBudgetMs: 1e9 });
    const started: string[] = [];
    const read = (name: string) => () => {
      started.push(name);
      return Promise.resolve(name);
    };
    const flood = Array.from({ length: 100 }, (_, i) => sched.run('mallory', read(`m${i}`), true));
    const honest = sched.run('alice', read('a0'), true);
    expect(await honest).toBe('a0');
    // Alice's read started in the first turn, right after mallory's first: not behind 100.
    expect(started.indexOf('a0')).toBe(1);
    // The pump yields between turns: after the first turn, at most perTurn reads had started.
    expect(started.length).toBeLessThanOrEqual(4);
    await Promise.all(flood);
    expect(started.filter((s) => s.startsWith('m'))).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    sched.close();
  });

  it('budgeted reads: 2×rate pass, the next is refused with the wait; the clock refills; unbudgeted ones always run', async () => {
    let now = 1_000_000;
    const sched = new ReadScheduler({ rate: 5, clock: () => now });
    const ok = () => Promise.resolve('ok');
    for (let i = 0; i < 10; i++) expect(await sched.run('u', ok, true)).toBe('ok');
    const refused = await sched.run('u', ok, true).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ReadRefused);
    expect((refused as ReadRefused).retryAfterMs).toBe(200);
    expect(await sched.run('u', ok, false)).toBe('ok');
    expect(await sched.run('other', ok, true)).toBe('ok');
    now += 199;
    expect(await sched.run('u', ok, true).catch((e: unknown) => e)).toBeInstanceOf(ReadRefused);
    now += 1;
    expect(await sched.run('u', ok, true)).toBe('ok');
    sched.close();
  });

  it('a read that throws or rejects fails only its own caller', async () => {
    const sched = new ReadScheduler({ rate: 1e9, clock: () => 0 });
    const boom = sched.run('u', () => Promise.reject(new Error('x')), true);
    const sync = sched.run(
      'u',
      () => {
        throw new Error('y');
      },
      true,
    );
    const fine = sched.run('u', () => Promise.resolve(1), true);
    await expect(boom).rejects.toThrow('x');
    await expect(sync).rejects.toThrow('y');
    expect(await fine).toBe(1);
    sched.close();
  });
});

describe('TypingThrottle', () => {
  it('one notice per sender→recipient per 2 s, at the boundary', () => {
    let now = 5_000_000;
    const t = new TypingThrottle(() => now);
    expect(t.allow('a', 'b')).toBe(true);
    expect(t.allow('a', 'b')).toBe(false);
    // Another pair is independent.
    expect(t.allow('a', 'c')).toBe(true);
    expect(t.allow('b', 'a')).toBe(true);
    now += TYPING_INTERVAL_MS - 1;
    expect(t.allow('a', 'b')).toBe(false);
    now += 1;
    expect(t.allow('a', 'b')).toBe(true);
  });

  it('a sender spraying many recipients gets 10 at once, then 5 a second; old pairs are forgotten', () => {
    let now = 7_000_000;
    const t = new TypingThrottle(() => now);
    const allowed = Array.from({ length: 50 }, (_, i) => t.allow('spray', `r${i}`)).filter(Boolean);
    expect(allowed).toHaveLength(10);
    now += 200;
    expect(t.allow('spray', 'r100')).toBe(true);
    expect(t.allow('spray', 'r101')).toBe(false);
    now += 10 * TYPING_INTERVAL_MS;
    t.allow('x', 'y');
    expect(t.size).toBe(1);
  });
});
