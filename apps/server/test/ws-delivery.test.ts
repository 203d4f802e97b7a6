// Over ~300 lines on purpose: one subject, delivery over /ws (send, rate limit, acks and
// receipts, history, conversations, typing and presence) as PROTOCOL.md version 1 says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  FakeClock,
  type Frame,
  fence,
  mid,
  type Running,
  register,
  type Session,
  sendAndWait,
  session,
  startServer,
} from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer({ rate: 10_000 });
});
afterAll(() => s.stop());

async function pair(server = s): Promise<[Account, Account, Session, Session]> {
  const a = await register(server.url);
  const b = await register(server.url);
  return [a, b, await session(server.wsUrl, a.token), await session(server.wsUrl, b.token)];
}

describe('send', () => {
  it('sent comes before the echo on the sending connection; msg reaches every connection of both', async () => {
    const [a, b, ca, cb] = await pair();
    const ca2 = await session(s.wsUrl, a.token);
    const cb2 = await session(s.wsUrl, b.token);
    const id = mid();
    const before = Date.now();
    ca.send({ t: 'send', id, to: b.id.toUpperCase(), body: 'hi "there" 🐦' });
    const m = await ca.waitFor((f) => f.t === 'msg' && f.id === id);
    const sentIdx = ca.frames.findIndex((f) => f.t === 'sent' && f.id === id);
    expect(sentIdx).toBeGreaterThanOrEqual(0);
    expect(sentIdx).toBeLessThan(ca.frames.indexOf(m));
    const sent = ca.frames[sentIdx]!;
    expect(sent.ts).toBeGreaterThanOrEqual(before);
    expect(sent.ts).toBeLessThanOrEqual(Date.now());
    for (const c of [ca2, cb, cb2]) {
      const got = await c.waitFor((f) => f.t === 'msg' && f.id === id);
      expect(got).toMatchObject({
        from: a.id,
        to: b.id,
        body: 'hi "there" 🐦',
        ts: sent.ts,
        delivered: false,
      });
      expect(typeof got.cursor).toBe('string');
    }
    // The two mailboxes have their own cursors.
    expect((await cb.waitFor((f) => f.id === id)).cursor).not.toBe(m.cursor);
    expect((await cb2.waitFor((f) => f.id === id)).cursor).toBe(
      (await cb.waitFor((f) => f.id === id)).cursor,
    );
  });

  it('a message to oneself is one entry, pushed once', async () => {
    const [a, , ca] = await pair();
    const id = mid();
    expect((await sendAndWait(ca, a.id, 'me')).t).toBe('sent');
    await sendAndWait(ca, a.id, 'fence', id);
    await ca.waitFor((f) => f.t === 'msg' && f.id === id);
    expect(ca.msgs()).toHaveLength(2);
  });

  it('pipelined sends are stored and delivered in order', async () => {
    const [a, b, ca, cb] = await pair();
    const ids = Array.from({ length: 300 }, () => mid('p'));
    for (const [i, id] of ids.entries()) ca.send({ t: 'send', id, to: b.id, body: `n${i}` });
    await cb.until(() => cb.msgs().length === 300, '300 msgs');
    expect(cb.msgs().map((m) => m.id)).toEqual(ids);
    const sentOrder = ca.frames.filter((f) => f.t === 'sent').map((f) => f.id);
    expect(sentOrder).toEqual(ids);
    const cursors = cb.msgs().map((m) => String(m.cursor));
    expect([...cursors].sort()).toEqual(cursors);
    const h = await request(cb, { t: 'history', with: a.id, limit: 100 });
    expect((h.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(200));
  });

  it('a resend of (from, id) stores and pushes nothing and answers the original ts, whatever to/body say', async () => {
    // The server's clock moves by hand between the send and its resend: a resend stored
    // again would carry a later ts.
    const clock = new FakeClock(Date.now());
    const r = await startServer({ rate: 10_000, clock: clock.now });
    try {
      const [, b, ca, cb] = await pair(r);
      const c = await register(r.url);
      const id = mid();
      const first = await sendAndWait(ca, b.id, 'original', id);
      clock.advance(60_000);
      const again = await sendAndWait(ca, c.id, 'different', id);
      expect(again).toEqual({ t: 'sent', id, ts: first.ts });
      // Back to back, in one batch.
      const id2 = mid();
      ca.send({ t: 'send', id: id2, to: b.id, body: 'x' });
      ca.send({ t: 'send', id: id2, to: b.id, body: 'x' });
      await ca.until(() => ca.frames.filter((f) => f.t === 'sent' && f.id === id2).length === 2, 'two sent');
      const [s1, s2] = ca.frames.filter((f) => f.t === 'sent' && f.id === id2);
      expect(s1!.ts).toBe(s2!.ts);
      // A duplicate even to a nonexistent user is answered `sent` (the duplicate check comes first).
      expect((await sendAndWait(ca, 'nobody-here', 'x', id)).t).toBe('sent');
      const fence = mid();
      await sendAndWait(ca, b.id, 'fence', fence);
      await cb.waitFor((f) => f.id === fence);
      expect(cb.msgs().map((m) => m.id)).toEqual([id, id2, fence]);
      const h = await request(ca, { t: 'history', with: b.id });
      expect((h.items as Frame[]).map((m) => m.body)).toEqual(['original', 'x', 'fence']);
    } finally {
      await r.stop();
    }
  });

  it('no_such_user echoes the id and stores nothing', async () => {
    const [, , ca] = await pair();
    const id = mid();
    const e = await sendAndWait(ca, 'ghost-user', 'hello?', id);
    expect(e).toMatchObject({ t: 'error', code: 'no_such_user', id });
    expect((await request(ca, { t: 'conversations' })).items).toEqual([]);
  });

  it('body: 4000 UTF-16 units pass, 4001 are too_large (also with emoji); empty is bad_frame', async () => {
    const [, b, ca, cb] = await pair();
    const cases: [string, string][] = [
      ['x'.repeat(4000), 'sent'],
      ['x'.repeat(4001), 'too_large'],
      ['😀'.repeat(2000), 'sent'],
      [`${'😀'.repeat(2000)}a`, 'too_large'],
      ['', 'bad_frame'],
    ];
    for (const [body, expected] of cases) {
      const id = mid();
      const r = await sendAndWait(ca, b.id, body, id);
      expect(r.t === 'sent' ? 'sent' : r.code).toBe(expected);
      if (r.t === 'error') expect(r.id).toBe(id);
      else expect((await cb.waitFor((f) => f.t === 'msg' && f.id === id)).body).toBe(body);
    }
    expect(cb.msgs()).toHaveLength(2);
  });

  it('check order: shape, then length, then duplicate, then recipient', async () => {
    const [, b, ca] = await pair();
    const id = mid();
    // too_large wins over no_such_user
    expect((await sendAndWait(ca, 'nobody-x', 'x'.repeat(4001), id)).code).toBe('too_large');
    // bad_frame (bad recipient id) wins over too_large
    const e = await sendAndWait(ca, 'Bad Id!', 'x'.repeat(4001), mid());
    expect(e.code).toBe('bad_frame');
    expect((await sendAndWait(ca, b.id, 'ok', mid())).t).toBe('sent');
    // An over-long resend of a stored id is still too_large (length before duplicate).
    const id2 = mid();
    await sendAndWait(ca, b.id, 'y', id2);
    ca.send({ t: 'send', id: id2, to: b.id, body: 'z'.repeat(4001) });
    const e2 = await ca.waitFor((f) => f.t === 'error' && f.id === id2);
    expect(e2.code).toBe('too_large');
  });
});

describe('rate limit', () => {
  it('a full bucket of 2×PIGEON_RATE sends, then rate_limited with retryAfterMs; refused sends take no token', async () => {
    // The limiter's clock is moved by hand: the refill is tested at its boundary, not waited for.
    const clock = new FakeClock();
    const r = await startServer({ rate: 5, clock: clock.now });
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      const cb = await session(r.wsUrl, b.token);
      const ids = Array.from({ length: 12 }, () => mid('r'));
      for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: id });
      await ca.until(
        () =>
          ca.frames.filter((f) => (f.t === 'sent' || f.t === 'error') && ids.includes(String(f.id)))
            .length === 12,
        'answers',
      );
      const answers = ids.map(
        (id) => ca.frames.find((f) => f.id === id && (f.t === 'sent' || f.t === 'error'))!,
      );
      expect(answers.slice(0, 10).every((f) => f.t === 'sent')).toBe(true);
      for (const f of answers.slice(10)) {
        expect(f.code).toBe('rate_limited');
        expect(f.retryAfterMs).toBe(200);
      }
      // A duplicate and a send to nobody are answered without a token.
      expect((await sendAndWait(ca, b.id, 'dup', ids[0])).t).toBe('sent');
      expect((await sendAndWait(ca, 'nobody-r', 'x')).code).toBe('no_such_user');
      clock.advance(199);
      expect((await sendAndWait(ca, b.id, 'too early')).code).toBe('rate_limited');
      clock.advance(1);
      // One token has come back (5 a second): one send passes, the next is refused.
      const after = [mid('w'), mid('w')];
      for (const id of after) ca.send({ t: 'send', id, to: b.id, body: id });
      const [ok, refused] = await Promise.all(
        after.map((id) => ca.waitFor((f) => (f.t === 'sent' || f.t === 'error') && f.id === id)),
      );
      expect(ok!.t).toBe('sent');
      expect(refused).toMatchObject({ t: 'error', code: 'rate_limited' });
      // The stored one arrives after every earlier entry: nothing refused slipped in before it.
      await cb.waitFor((f) => f.t === 'msg' && f.id === after[0]);
      expect(cb.msgs().map((m) => m.id)).not.toContain(ids[10]);
      expect(cb.msgs()).toHaveLength(11);
    } finally {
      await r.stop();
    }
  });
});

async function request(c: Session, frame: Record<string, unknown>): Promise<Frame> {
  const rid = mid('rid');
  c.send({ ...frame, rid });
  return c.waitFor((f) => f.rid === rid, `answer to ${frame.t}`);
}

/** Stores `n` messages from `c` to `to` one after another (bodies `prefix0`…): their ids, in order. */
async function sendNumbered(c: Session, to: string, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = mid(prefix);
    ids.push(id);
    await sendAndWait(c, to, `${prefix}${i}`, id);
  }
  return ids;
}

describe('ack and receipts', () => {
  it('one receipt per newly covered message to every connection of the sender; none for self; delivered flags follow', async () => {
    const [a, b, ca] = await pair();
    const ca2 = await session(s.wsUrl, a.token);
    const ids = await sendNumbered(ca, b.id, 'k', 5);
    // b also writes to itself and to a: neither yields a receipt for b's acks.
    const cb = await session(s.wsUrl, b.token);
    expect(cb.backlog.map((m) => m.id)).toEqual(ids);
    expect(cb.backlog.every((m) => m.delivered === false)).toBe(true);
    await sendAndWait(cb, b.id, 'note to self');
    await sendAndWait(cb, a.id, 'reply');
    cb.send({ t: 'ack', cursor: cb.backlog[2]!.cursor });
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 3, '3 receipts');
    cb.send({ t: 'ack', cursor: cb.backlog[1]!.cursor }); // below the mark: nothing
    const last = cb.msgs().at(-1)!;
    cb.send({ t: 'ack', cursor: last.cursor });
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 5, '5 receipts');
    await fence(ca);
    await fence(ca2);
    for (const c of [ca, ca2]) {
      const receipts = c.frames.filter((f) => f.t === 'receipt');
      expect(receipts.map((r) => r.id)).toEqual(ids);
      expect(receipts.every((r) => r.to === b.id)).toBe(true);
    }
    expect(cb.frames.filter((f) => f.t === 'receipt')).toHaveLength(0);
    const h = await request(ca, { t: 'history', with: b.id });
    expect((h.items as Frame[]).map((m) => m.delivered)).toEqual([true, true, true, true, true, false]);
    // The mark is stored: a new connection without since gets nothing.
    const cb3 = await session(s.wsUrl, b.token);
    expect(cb3.backlog).toEqual([]);
  });

  it('acks sent right before the client closes still count: the last one moves the mark', async () => {
    const [, b, ca] = await pair();
    const ids = await sendNumbered(ca, b.id, 'z', 4);
    const cb = await session(s.wsUrl, b.token);
    expect(cb.backlog.map((m) => m.id)).toEqual(ids);
    // What `pigeon listen` does on Ctrl-C: its acks, then the close, back to back. The second
    // ack waits behind the first (which reads the mailbox) when the close is read.
    cb.send({ t: 'ack', cursor: cb.backlog[1]!.cursor });
    cb.send({ t: 'ack', cursor: cb.backlog[3]!.cursor });
    await cb.close();
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 4, '4 receipts');
    const again = await session(s.wsUrl, b.token);
    expect(again.backlog).toEqual([]);
  });

  it('a cursor of another mailbox, or garbage, is bad_frame', async () => {
    const [a, b, ca, cb] = await pair();
    await sendAndWait(ca, b.id, 'x');
    const theirs = (await cb.waitFor((f) => f.t === 'msg')).cursor;
    const mine = (await ca.waitFor((f) => f.t === 'msg')).cursor;
    for (const cursor of [theirs, 'garbage', `${mine}0`, '']) {
      ca.send({ t: 'ack', cursor });
    }
    await ca.until(() => ca.frames.filter((f) => f.t === 'error').length === 4, '4 errors');
    expect(ca.frames.filter((f) => f.t === 'error').every((f) => f.code === 'bad_frame')).toBe(true);
    expect(a.id).not.toBe(b.id);
  });
});

describe('history', () => {
  it('pages oldest first with more, before, limit bounds, rid and errors', async () => {
    const [a, b, ca, cb] = await pair();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = mid('h');
      ids.push(id);
      ca.send({ t: 'send', id, to: b.id, body: `h${i}` });
    }
    await cb.until(() => cb.msgs().length === 60, '60');
    const p1 = await request(ca, { t: 'history', with: b.id });
    expect((p1.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(10));
    expect(p1.more).toBe(true);
    expect(p1.with).toBe(b.id);
    const first = (p1.items as Frame[])[0]!;
    const p2 = await request(ca, {
      t: 'history',
      with: b.id.toUpperCase(),
      before: first.cursor,
      limit: 100,
    });
    expect((p2.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(0, 10));
    expect(p2.more).toBe(false);
    const one = await request(ca, { t: 'history', with: b.id, limit: 1 });
    expect((one.items as Frame[]).map((m) => m.id)).toEqual([ids[59]]);
    for (const limit of [0, 101, 1.5, '5']) {
      const e = await request(ca, { t: 'history', with: b.id, limit });
      expect(e).toMatchObject({ t: 'error', code: 'bad_frame' });
    }
    const theirCursor = cb.msgs()[0]!.cursor;
    expect(await request(ca, { t: 'history', with: b.id, before: theirCursor })).toMatchObject({
      code: 'bad_frame',
    });
    expect(await request(ca, { t: 'history', with: 'no-such-user-h' })).toMatchObject({
      code: 'no_such_user',
    });
    expect(await request(ca, { t: 'history', with: a.id })).toMatchObject({
      t: 'history',
      items: [],
      more: false,
    });
  });
});

describe('conversations', () => {
  it('one row per peer, newest first, with the last msg; oneself included', async () => {
    const [a, b, ca, cb] = await pair();
    const c = await register(s.url);
    const cc = await session(s.wsUrl, c.token);
    expect(await request(ca, { t: 'conversations' })).toMatchObject({ items: [] });
    await sendAndWait(ca, b.id, 'ab1');
    await sendAndWait(cc, a.id, 'ca1');
    await sendAndWait(ca, a.id, 'self');
    const last = await sendAndWait(cb, a.id, 'ba1');
    const conv = await request(ca, { t: 'conversations' });
    const items = conv.items as { with: string; last: Frame }[];
    expect(items.map((r) => r.with)).toEqual([b.id, a.id, c.id]);
    expect(items[0]!.last).toMatchObject({ id: last.id, from: b.id, to: a.id, body: 'ba1' });
    expect(items[1]!.last.body).toBe('self');
  });
});

describe('typing and presence', () => {
  it('typing reaches the recipient only; to oneself, invalid or unknown users it is dropped', async () => {
    const [a, b, ca, cb] = await pair();
    const ca2 = await session(s.wsUrl, a.token);
    ca.send({ t: 'typing', to: a.id });
    ca.send({ t: 'typing', to: 'Bad Id!' });
    ca.send({ t: 'typing', to: 'nobody-typing' });
    ca.send({ t: 'typing', to: b.id.toUpperCase() });
    expect(await cb.waitFor((f) => f.t === 'typing')).toEqual({ t: 'typing', from: a.id });
    ca.send({ t: 'ping', rid: 'z' });
    await ca.waitFor((f) => f.t === 'pong');
    // Typing was forwarded while ca's frames were handled, before its ping: fence the others.
    await fence(ca2);
    await fence(cb);
    expect([...ca.frames, ...ca2.frames].filter((f) => f.t === 'typing' || f.t === 'error')).toEqual([]);
    expect(cb.msgs()).toEqual([]);
  });

  it('presence: state on subscribing, changes after, replace on resubscribe; bad lists are bad_frame', async () => {
    const [a, b, ca] = await pair();
    const d = await register(s.url);
    ca.send({ t: 'presence', users: [b.id.toUpperCase(), d.id, 'unknown-user-p'] });
    await ca.until(() => ca.frames.filter((f) => f.t === 'presence').length === 3, '3 presence');
    const states = Object.fromEntries(
      ca.frames.filter((f) => f.t === 'presence').map((f) => [f.user, f.online]),
    );
    expect(states).toEqual({ [b.id]: true, [d.id]: false, 'unknown-user-p': false });
    const cd = await session(s.wsUrl, d.token);
    expect(await ca.waitFor((f) => f.t === 'presence' && f.user === d.id && f.online === true)).toBeTruthy();
    const cd2 = await session(s.wsUrl, d.token);
    await cd.close();
    await fence(ca);
    expect(ca.frames.filter((f) => f.t === 'presence' && f.user === d.id)).toHaveLength(2);
    await cd2.close();
    await ca.waitFor(
      (f) => f.t === 'presence' && f.user === d.id && f.online === false && ca.frames.indexOf(f) > 3,
    );
    ca.send({ t: 'presence', users: [a.id] });
    await ca.waitFor((f) => f.t === 'presence' && f.user === a.id && f.online === true);
    const mark = ca.frames.length;
    const cd3 = await session(s.wsUrl, d.token);
    await cd3.close();
    await fence(ca);
    expect(ca.frames.slice(mark).filter((f) => f.t === 'presence')).toEqual([]);
    const users200 = Array.from({ length: 200 }, (_, i) => `p${i}`);
    const presenceCount = () => ca.frames.filter((f) => f.t === 'presence').length;
    const before = presenceCount();
    ca.send({ t: 'presence', users: users200 });
    await ca.until(() => presenceCount() === before + 200, '200 states');
    for (const users of [[], [...users200, 'p200'], ['Bad Id!'], 'x']) {
      ca.send({ t: 'presence', users });
    }
    await ca.until(
      () => ca.frames.filter((f) => f.t === 'error' && f.code === 'bad_frame').length === 4,
      '4 errors',
    );
  });
});
