// Over ~300 lines on purpose: one subject, the chat features' writes over real sockets, rule by rule.
import { DELETED_BODY, ErrorCode, LIMITS } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT, chatSession, ok, refused, request, sendMsg, settle, updates } from './chat-helpers.js';
import { FakeClock, fence, mid, type Running, register, session, startServer } from './helpers.js';

/*
 * The chat features' writes over real sockets (PROTOCOL.md "Writes and their answers",
 * "Edit", "React", "Reply"): the answer comes after the commit and before the update it
 * causes, every rule at its boundary, the send bucket, and what a version-1 connection sees.
 */

const clock = new FakeClock();
let s: Running;
beforeAll(async () => {
  s = await startServer({ clock: clock.now, rate: 1_000 });
});
afterAll(() => s.stop());

describe('negotiation', () => {
  it('welcome.features lists the chat features asked for that the server offers, in the spec order', async () => {
    const a = await register(s.url);
    const all = await chatSession(s.wsUrl, a.token, [
      'search',
      'read',
      'files',
      'edit',
      'reply',
      'react',
      'block',
    ]);
    expect(all.welcome.features).toEqual([...CHAT, 'files']);
    const some = await chatSession(s.wsUrl, a.token, ['react']);
    expect(some.welcome.features).toEqual(['react']);
    // A frame of a feature not negotiated is an unknown type.
    some.send({ t: 'edit', from: a.id, id: 'x', body: 'y', rid: 'r1' });
    expect(await some.waitFor((f) => f.t === 'error', 'bad_frame')).toMatchObject({ code: 'bad_frame' });
    await Promise.all([all.close(), some.close()]);
  });
});

describe('writes and their answers', () => {
  it('ok after the commit, before the update it causes; no answer without a rid; every device and the peer get the update', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const a1 = await chatSession(s.wsUrl, a.token);
    const a2 = await chatSession(s.wsUrl, a.token);
    const b1 = await chatSession(s.wsUrl, b.token);
    const echo = await sendMsg(a1, b.id, 'hello');
    const id = String(echo.id);
    const from = a1.frames.length;
    a1.send({ t: 'edit', from: a.id, id, body: 'hello there', rid: 'e1' });
    const update = await a1.waitFor((f) => f.t === 'update' && f.kind === 'edit', 'edit update on a1');
    const okAt = a1.frames.findIndex((f) => f.t === 'ok' && f.rid === 'e1');
    expect(okAt).toBeGreaterThanOrEqual(from);
    expect(okAt).toBeLessThan(a1.frames.indexOf(update));
    expect(update).toMatchObject({ from: a.id, id, with: b.id, body: 'hello there', ts: clock.now() });
    expect(await a2.waitFor((f) => f.t === 'update' && f.kind === 'edit', 'a2')).toEqual(update);
    const onB = await b1.waitFor((f) => f.t === 'update' && f.kind === 'edit', 'b1');
    expect(onB).toMatchObject({ from: a.id, id, with: a.id, body: 'hello there' });
    // Without a rid: the update comes, no ok.
    const before = a1.frames.length;
    a1.send({ t: 'react', from: a.id, id, emoji: '🎉' });
    await a1.waitFor((f) => f.t === 'update' && f.kind === 'react', 'react update');
    expect((await settle(a1, before)).filter((f) => f.t === 'ok')).toEqual([]);
    // The message itself shows the state to every connection that reads it now.
    const h = await request(b1, { t: 'history', with: a.id });
    expect((h.items as Record<string, unknown>[])[0]).toMatchObject({
      id,
      body: 'hello there',
      edited: clock.now(),
      reactions: [{ by: a.id, emoji: '🎉' }],
      read: false,
    });
    await Promise.all([a1.close(), a2.close(), b1.close()]);
  });

  it('edit and delete: exactly 15 minutes after ts is allowed (injected clock); one ms more is too_late', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const m1 = String((await sendMsg(ca, b.id, 'one')).id);
    const m2 = String((await sendMsg(ca, b.id, 'two')).id);
    clock.advance(LIMITS.editWindowMs);
    await ok(ca, { t: 'edit', from: a.id, id: m1, body: 'one!' });
    await ok(ca, { t: 'delete', from: a.id, id: m2 });
    const m3 = String((await sendMsg(ca, b.id, 'three')).id);
    clock.advance(LIMITS.editWindowMs + 1);
    await refused(ca, { t: 'edit', from: a.id, id: m3, body: 'late' }, ErrorCode.tooLate);
    await refused(ca, { t: 'delete', from: a.id, id: m3 }, ErrorCode.tooLate);
    await ca.close();
  });

  it("typed refusals: someone else's message, no such message, editing a deleted one, reacting to a deleted one", async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const cb = await chatSession(s.wsUrl, b.token);
    const theirs = String((await sendMsg(cb, a.id, 'from b')).id);
    const mine = String((await sendMsg(ca, b.id, 'from a')).id);
    await refused(ca, { t: 'edit', from: b.id, id: theirs, body: 'x' }, ErrorCode.notYours);
    await refused(ca, { t: 'delete', from: b.id, id: theirs }, ErrorCode.notYours);
    await refused(ca, { t: 'edit', from: a.id, id: 'never', body: 'x' }, ErrorCode.noSuchMessage);
    await refused(ca, { t: 'hide', from: a.id, id: 'never' }, ErrorCode.noSuchMessage);
    await refused(ca, { t: 'react', from: a.id, id: 'never', emoji: '👍' }, ErrorCode.noSuchMessage);
    // Nothing would change: ok, nothing appended.
    const count = updates(ca).length;
    await ok(ca, { t: 'edit', from: a.id, id: mine, body: 'from a' });
    await ok(ca, { t: 'react', from: a.id, id: mine, emoji: null });
    await ok(ca, { t: 'delete', from: a.id, id: mine });
    await ok(ca, { t: 'delete', from: a.id, id: mine });
    await refused(ca, { t: 'edit', from: a.id, id: mine, body: 'back' }, ErrorCode.messageDeleted);
    await refused(cb, { t: 'react', from: a.id, id: mine, emoji: '👍' }, ErrorCode.messageDeleted);
    // A reply to a deleted message is refused with the send's id.
    const rid = mid('reply');
    cb.send({ t: 'send', id: rid, to: a.id, body: 're', replyTo: { from: a.id, id: mine } });
    expect(await cb.waitFor((f) => f.t === 'error' && f.id === rid, 'reply refused')).toMatchObject({
      code: ErrorCode.messageDeleted,
    });
    await fence(ca);
    expect(
      updates(ca)
        .slice(count)
        .map((u) => u.kind),
    ).toEqual(['delete']);
    // Blocking oneself is a bad frame; a user id that names nobody is no_such_user.
    await refused(ca, { t: 'block', user: a.id }, ErrorCode.badFrame);
    await refused(ca, { t: 'block', user: 'nobody-here' }, ErrorCode.noSuchUser);
    await Promise.all([ca.close(), cb.close()]);
  });

  it('a reply carries the quote in each mailbox, and the quote follows a deletion in history', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const cb = await chatSession(s.wsUrl, b.token);
    const original = await sendMsg(ca, b.id, 'the original');
    const onB = await cb.waitFor((f) => f.t === 'msg' && f.id === original.id, 'original on b');
    cb.send({ t: 'send', id: 'r1', to: a.id, body: 'an answer', replyTo: { from: a.id, id: original.id } });
    const replyOnA = await ca.waitFor((f) => f.t === 'msg' && f.id === 'r1', 'reply on a');
    expect(replyOnA.replyTo).toEqual({
      from: a.id,
      id: original.id,
      cursor: original.cursor,
      body: 'the original',
    });
    const replyOnB = await cb.waitFor((f) => f.t === 'msg' && f.id === 'r1', 'reply on b');
    expect(replyOnB.replyTo).toMatchObject({ cursor: onB.cursor });
    await ok(ca, { t: 'delete', from: a.id, id: original.id });
    const h = await request(cb, { t: 'history', with: a.id });
    const items = h.items as Record<string, unknown>[];
    expect(items.map((m) => [m.id, m.body, m.deleted ?? false])).toEqual([
      [original.id, '', true],
      ['r1', 'an answer', false],
    ]);
    expect(items[1]!.replyTo).toEqual({ from: a.id, id: original.id, cursor: onB.cursor, deleted: true });
    await Promise.all([ca.close(), cb.close()]);
  });

  it('a version-1 connection sees nothing new: no update, no new field, a deletion as the placeholder', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const v1 = await session(s.wsUrl, b.token);
    const m = await sendMsg(ca, b.id, 'will go');
    const onV1 = await v1.waitFor((f) => f.t === 'msg' && f.id === m.id, 'msg on v1');
    expect(Object.keys(onV1).sort()).toEqual(['body', 'cursor', 'delivered', 'from', 'id', 't', 'to', 'ts']);
    const reply = await sendMsg(ca, b.id, 'quoting', { replyTo: { from: a.id, id: m.id } });
    await ok(ca, { t: 'react', from: a.id, id: m.id, emoji: '👍' });
    await ok(ca, { t: 'edit', from: a.id, id: reply.id, body: 'quoting, edited' });
    await ok(ca, { t: 'delete', from: a.id, id: m.id });
    await fence(v1);
    expect(v1.frames.filter((f) => !['welcome', 'synced', 'msg', 'pong'].includes(String(f.t)))).toEqual([]);
    const replyOnV1 = v1.frames.find((f) => f.t === 'msg' && f.id === reply.id)!;
    expect(Object.keys(replyOnV1).sort()).toEqual([
      'body',
      'cursor',
      'delivered',
      'from',
      'id',
      't',
      'to',
      'ts',
    ]);
    const h = await request(v1, { t: 'history', with: a.id });
    const items = h.items as Record<string, unknown>[];
    expect(items.map((i) => i.body)).toEqual([DELETED_BODY, 'quoting, edited']);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual([
        'body',
        'cursor',
        'delivered',
        'from',
        'id',
        't',
        'to',
        'ts',
      ]);
    }
    const conv = await request(v1, { t: 'conversations' });
    expect(conv.items).toEqual([{ with: a.id, last: items[1] }]);
    // Its head is the newest message, not the updates after it; the backlog has messages only.
    const again = await session(s.wsUrl, b.token, String(onV1.cursor));
    expect(again.welcome.head).toBe(replyOnV1.cursor);
    expect(again.backlog.map((f) => [f.t, f.id])).toEqual([['msg', reply.id]]);
    expect(again.synced.head).toBe(replyOnV1.cursor);
    await Promise.all([ca.close(), v1.close(), again.close()]);
  });
});

describe('opening a conversation at its first unread message', () => {
  it("history after the row's readUpto holds the unread messages, oldest first (paging)", async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token, ['paging', ...CHAT]);
    const cb = await chatSession(s.wsUrl, b.token, ['paging', ...CHAT]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(String((await sendMsg(ca, b.id, `m${i}`)).id));
    const second = await cb.waitFor((f) => f.t === 'msg' && f.id === ids[1], 'm1 on b');
    await ok(cb, { t: 'read', with: a.id, upto: second.cursor });
    const rows = await request(cb, { t: 'conversations', limit: 10 });
    const row = (rows.items as Record<string, unknown>[])[0]!;
    expect(row).toMatchObject({ with: a.id, unread: 3, readUpto: second.cursor });
    const page = await request(cb, { t: 'history', with: a.id, after: row.readUpto, limit: 2 });
    expect((page.items as Record<string, unknown>[]).map((m) => [m.id, m.read])).toEqual([
      [ids[2], false],
      [ids[3], false],
    ]);
    expect(page.more).toBe(true);
    await Promise.all([ca.close(), cb.close()]);
  });
});

describe('the send bucket', () => {
  it('every write that changes something takes a token after its checks; no-ops and refusals take none', async () => {
    const rated = await startServer({ clock: clock.now, rate: 1 });
    try {
      const a = await register(rated.url);
      const b = await register(rated.url);
      const ca = await chatSession(rated.wsUrl, a.token);
      // The bucket holds 2 (twice PIGEON_RATE) and starts full.
      const m = String((await sendMsg(ca, b.id, 'one')).id);
      await ok(ca, { t: 'react', from: a.id, id: m, emoji: '👍' });
      // Empty now: a no-op and a refusal are still answered as such…
      await ok(ca, { t: 'react', from: a.id, id: m, emoji: '👍' });
      await refused(ca, { t: 'edit', from: a.id, id: 'never', body: 'x' }, ErrorCode.noSuchMessage);
      // …and a change is rate_limited, with the wait.
      const limited = await refused(
        ca,
        { t: 'react', from: a.id, id: m, emoji: '🎉' },
        ErrorCode.rateLimited,
      );
      expect(limited.retryAfterMs).toBeGreaterThan(0);
      clock.advance(1000);
      await ok(ca, { t: 'react', from: a.id, id: m, emoji: '🎉' });
      await ca.close();
    } finally {
      await rated.stop();
    }
  });
});

describe('requests', () => {
  it('settings answers what the connection negotiated; receipts and blocks change it on every device', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const both = await chatSession(s.wsUrl, a.token);
    const readOnly = await chatSession(s.wsUrl, a.token, ['read']);
    const blockOnly = await chatSession(s.wsUrl, a.token, ['block']);
    expect(await request(both, { t: 'settings' })).toMatchObject({ readReceipts: true, blocked: [] });
    await ok(both, { t: 'receipts', on: false });
    await ok(both, { t: 'block', user: b.id });
    const r = await request(readOnly, { t: 'settings' });
    expect(r).toMatchObject({ t: 'settings', readReceipts: false });
    expect(r).not.toHaveProperty('blocked');
    const k = await request(blockOnly, { t: 'settings' });
    expect(k).toMatchObject({ t: 'settings', blocked: [b.id] });
    expect(k).not.toHaveProperty('readReceipts');
    expect(await readOnly.waitFor((f) => f.t === 'update', 'settings update')).toMatchObject({
      kind: 'settings',
      readReceipts: false,
    });
    expect(await blockOnly.waitFor((f) => f.t === 'update', 'block update')).toMatchObject({
      kind: 'block',
      user: b.id,
      blocked: true,
    });
    // Each gets only its own kinds.
    await fence(readOnly);
    await fence(blockOnly);
    expect(updates(readOnly).map((u) => u.kind)).toEqual(['settings']);
    expect(updates(blockOnly).map((u) => u.kind)).toEqual(['block']);
    await Promise.all([both.close(), readOnly.close(), blockOnly.close()]);
  });

  it('a write with an upto that is not a cursor of this mailbox is bad_frame; read marks moving back are ok', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const cb = await chatSession(s.wsUrl, b.token);
    const m1 = await sendMsg(ca, b.id, 'one');
    await sendMsg(ca, b.id, 'two');
    const on1 = await cb.waitFor((f) => f.t === 'msg' && f.id === m1.id, 'm1 on b');
    await refused(cb, { t: 'read', with: a.id, upto: m1.cursor }, ErrorCode.badFrame);
    await refused(cb, { t: 'read', with: 'nobody-at-all', upto: on1.cursor }, ErrorCode.noSuchUser);
    const last = cb.frames.filter((f) => f.t === 'msg').at(-1)!;
    await ok(cb, { t: 'read', with: a.id, upto: last.cursor });
    const count = updates(cb).length;
    await ok(cb, { t: 'read', with: a.id, upto: on1.cursor });
    await ok(cb, { t: 'read', with: a.id, upto: last.cursor });
    await fence(cb);
    expect(updates(cb).length).toBe(count);
    await Promise.all([ca.close(), cb.close()]);
  });
});
