import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  type Frame,
  mid,
  type Running,
  register,
  sendAndWait,
  session,
  sleep,
  startServer,
} from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer({ rate: 1_000_000 });
});
afterAll(() => s.stop());

function expectExactlyOnceInOrder(got: Frame[], expected: string[], label: string) {
  const ids = got.map((m) => String(m.id));
  expect(new Set(ids).size, `${label}: repeats`).toBe(ids.length);
  expect(ids, label).toEqual(expected);
  const cursors = got.map((m) => String(m.cursor));
  expect([...cursors].sort(), `${label}: cursor order`).toEqual(cursors);
}

describe('the replay race', () => {
  it('connections that replay a large backlog while sends keep arriving get every entry once, in order', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const all: string[] = [];
    const blast = (n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const id = mid(tag);
        all.push(id);
        ca.send({ t: 'send', id, to: b.id, body: `${tag}${i} ${'x'.repeat(200)}` });
      }
    };
    // A backlog of 5000 entries.
    blast(5000, 'pre');
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === 5000, 'backlog stored', 30_000);

    // Hammer: keep sending in small bursts while several connections open and replay. The
    // sleeps only spread the load over time (sends land before, during and after each
    // replay); nothing waits on them: the fence below decides when everything arrived.
    let hammering = true;
    const hammer = (async () => {
      let round = 0;
      while (hammering) {
        blast(20, `h${round++}_`);
        await sleep(1);
      }
    })();
    const opens = [];
    for (let i = 0; i < 4; i++) {
      opens.push(session(s.wsUrl, b.token));
      await sleep(15);
    }
    const conns = await Promise.all(opens);
    await sleep(50);
    hammering = false;
    await hammer;
    const fence = mid('fence');
    all.push(fence);
    await sendAndWait(ca, b.id, 'fence', fence);
    for (const [i, c] of conns.entries()) {
      await c.until(() => c.msgs().some((m) => m.id === fence), `fence at b#${i}`, 30_000);
      // Nothing was acked, so each connection replays from the start: the whole mailbox, once, in order.
      expectExactlyOnceInOrder(c.msgs(), all, `b#${i}`);
      expect(c.backlog.length).toBeGreaterThanOrEqual(5000);
      // Only msg frames between welcome and synced.
      expect(c.backlog.every((f) => f.t === 'msg')).toBe(true);
      // synced.head is the cursor of the last entry sent before it.
      expect(c.synced.head).toBe(c.backlog.at(-1)!.cursor);
    }
    expect(all.length).toBeGreaterThan(5020);
  });

  it('with since, replays exactly the entries after it, racing live sends', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const cb = await session(s.wsUrl, b.token);
    const ids = Array.from({ length: 2000 }, () => mid('s'));
    for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: id });
    await cb.until(() => cb.msgs().length === 2000, '2000 live', 30_000);
    const since = String(cb.msgs()[999]!.cursor);
    const more = Array.from({ length: 500 }, () => mid('t'));
    const opening = session(s.wsUrl, b.token, since);
    for (const id of more) ca.send({ t: 'send', id, to: b.id, body: id });
    const c = await opening;
    expect(c.synced.gap).toBe(false);
    await c.until(() => c.msgs().some((m) => m.id === more.at(-1)), 'last live', 30_000);
    expectExactlyOnceInOrder(c.msgs(), [...ids.slice(1000), ...more], 'since');
  });

  it('since semantics: head replays nothing; an unknown or foreign since replays after the mark with gap', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(String((await sendAndWait(ca, b.id, `g${i}`)).id));
    const cb = await session(s.wsUrl, b.token);
    expect(cb.welcome.head).toBe(cb.backlog.at(-1)!.cursor);
    cb.send({ t: 'ack', cursor: cb.backlog[1]!.cursor });
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 2, 'receipts');
    const head = await session(s.wsUrl, b.token, String(cb.backlog.at(-1)!.cursor));
    expect(head.backlog).toEqual([]);
    expect(head.synced).toMatchObject({ head: cb.backlog.at(-1)!.cursor, gap: false });
    const aCursor = String(ca.msgs()[0]!.cursor);
    for (const since of ['nonsense', aCursor, '']) {
      const c = await session(s.wsUrl, b.token, since);
      expect(c.synced.gap, since).toBe(true);
      expect(c.backlog.map((m) => m.id)).toEqual(ids.slice(2));
    }
    // Acked entries replay with delivered:true when asked for with since.
    const early = await session(s.wsUrl, b.token, String(cb.backlog[0]!.cursor));
    expect(early.backlog.map((m) => m.delivered)).toEqual([true, false, false, false, false]);
  });

  it('a client that acks every entry of a long backlog while it replays is served, and the mark lands on the last', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const ids = Array.from({ length: 5000 }, () => mid('ack'));
    for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: id });
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === ids.length, 'stored', 30_000);
    const c = await Client.open(`${s.wsUrl}/ws`);
    c.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.t === 'msg') c.send({ t: 'ack', cursor: f.cursor });
    });
    c.send({ t: 'hello', v: 1, token: b.token });
    await c.waitFor((f) => f.t === 'synced', 'synced', 30_000);
    await ca.until(
      () => ca.frames.filter((f) => f.t === 'receipt').length === ids.length,
      'all receipts',
      30_000,
    );
    expect(c.closeInfo).toBeNull();
    const again = await session(s.wsUrl, b.token);
    expect(again.backlog).toEqual([]);
  });
});
