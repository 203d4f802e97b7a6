import { DELETED_BODY, ErrorCode, LIMITS, searchHighlights, searchTerms } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSession, ok, refused, request, sendMsg } from './chat-helpers.js';
import { Client, fence, type Running, register, session, startServer } from './helpers.js';

/*
 * PROTOCOL.md "Block" (for every connection once a block exists: mailboxes, presence,
 * typing) and "Search" (limits at their boundaries, CJK, the read budget).
 */

let s: Running;
beforeAll(async () => {
  s = await startServer({ rate: 100_000 });
});
afterAll(() => s.stop());

describe('block', () => {
  it("a blocked sender is told nothing: sent, never delivered; the blocker's devices (version 1 too) never get it", async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const v1 = await session(s.wsUrl, a.token);
    const cb = await chatSession(s.wsUrl, b.token);
    await ok(ca, { t: 'block', user: b.id });
    const hidden = await sendMsg(cb, a.id, 'you will not see this');
    expect(hidden.delivered).toBe(false);
    // a's devices ack everything they get; nothing of b's arrives, so no receipt either.
    await fence(ca);
    await fence(v1);
    for (const c of [ca, v1]) {
      expect(c.frames.filter((f) => f.t === 'msg')).toEqual([]);
      const last = c.frames.filter((f) => f.t === 'update').at(-1);
      if (last) c.send({ t: 'ack', cursor: last.cursor });
    }
    await ok(ca, { t: 'unblock', user: b.id });
    const after = await sendMsg(cb, a.id, 'now you do');
    await ca.waitFor((f) => f.t === 'msg' && f.id === after.id, 'after the unblock');
    await v1.waitFor((f) => f.t === 'msg' && f.id === after.id, 'after the unblock, v1');
    const h = await request(cb, { t: 'history', with: a.id });
    expect((h.items as Record<string, unknown>[]).map((m) => [m.id, m.delivered])).toEqual([
      [hidden.id, false],
      [after.id, false],
    ]);
    const onA = await request(ca, { t: 'history', with: b.id });
    expect((onA.items as Record<string, unknown>[]).map((m) => m.id)).toEqual([after.id]);
    await Promise.all([ca.close(), v1.close(), cb.close()]);
  });

  it('presence and typing stop both ways while either blocks the other, and come back after the unblock', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const cb = await session(s.wsUrl, b.token); // version 1: the block holds for every connection
    ca.send({ t: 'presence', users: [b.id] });
    cb.send({ t: 'presence', users: [a.id] });
    await ca.waitFor((f) => f.t === 'presence' && f.user === b.id && f.online === true, 'b online for a');
    await cb.waitFor((f) => f.t === 'presence' && f.user === a.id && f.online === true, 'a online for b');
    await ok(ca, { t: 'block', user: b.id });
    await ca.waitFor((f) => f.t === 'presence' && f.user === b.id && f.online === false, 'b offline for a');
    await cb.waitFor((f) => f.t === 'presence' && f.user === a.id && f.online === false, 'a offline for b');
    // Typing is dropped both ways (each direction is throttled separately, so one each is enough).
    ca.send({ t: 'typing', to: b.id });
    cb.send({ t: 'typing', to: a.id });
    await fence(ca);
    await fence(cb);
    // A second connection of b, opened while blocked, sees a offline from the start.
    const cb2 = await session(s.wsUrl, b.token);
    cb2.send({ t: 'presence', users: [a.id] });
    expect(await cb2.waitFor((f) => f.t === 'presence', 'first presence')).toMatchObject({ online: false });
    await fence(ca);
    await fence(cb);
    expect(ca.frames.filter((f) => f.t === 'typing')).toEqual([]);
    expect(cb.frames.filter((f) => f.t === 'typing')).toEqual([]);
    await ok(ca, { t: 'unblock', user: b.id });
    const presence = (c: typeof ca, user: string) =>
      c.frames.filter((f) => f.t === 'presence' && f.user === user).map((f) => f.online);
    await ca.until(() => presence(ca, b.id).length === 3, 'b back for a');
    await cb.until(() => presence(cb, a.id).length === 3, 'a back for b');
    expect(presence(ca, b.id)).toEqual([true, false, true]);
    expect(presence(cb, a.id)).toEqual([true, false, true]);
    await cb2.waitFor((f) => f.t === 'presence' && f.online === true, 'a back for b2');
    cb.send({ t: 'typing', to: a.id });
    await ca.waitFor((f) => f.t === 'typing' && f.from === b.id, 'typing after the unblock');
    await Promise.all([ca.close(), cb.close(), cb2.close()]);
  });
});

describe('search', () => {
  it('finds a Chinese word inside a run, with highlights, and opens nothing that is not a match', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const hit = await sendMsg(ca, b.id, '我会说中文吗? Yes');
    await sendMsg(ca, b.id, '中国');
    const answer = await request(ca, { t: 'search', q: '中文' });
    expect(answer.items).toEqual([{ msg: hit, highlights: [[3, 5]] }]);
    expect(answer.more).toBe(false);
    const yes = await request(ca, { t: 'search', q: 'yes 中', with: b.id });
    expect((yes.items as { highlights: unknown }[])[0]!.highlights).toEqual(
      searchHighlights(String(hit.body), searchTerms('yes 中')),
    );
    await ca.close();
  });

  it('limits at their boundaries: q of 200 units and limit 50 pass; 201 units, limit 0 or 51, no letter, a foreign cursor are bad_frame', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    const m = await sendMsg(ca, b.id, 'needle');
    const longest = `needle ${'x'.repeat(LIMITS.searchQueryMaxLength - 7)}`;
    expect(longest).toHaveLength(LIMITS.searchQueryMaxLength);
    expect(await request(ca, { t: 'search', q: longest })).toMatchObject({ t: 'search', items: [] });
    expect(await request(ca, { t: 'search', q: 'needle', limit: LIMITS.searchMaxLimit })).toMatchObject({
      t: 'search',
      items: [{ msg: { id: m.id } }],
    });
    for (const bad of [
      { q: `${longest}x` },
      { q: 'needle', limit: 0 },
      { q: 'needle', limit: LIMITS.searchMaxLimit + 1 },
      { q: '?!' },
      { q: '' },
      { q: 'needle', with: 'Not An Id!' },
      { q: 'needle', before: 'deadbeef.00000001' },
    ]) {
      expect(await request(ca, { t: 'search', ...bad }), JSON.stringify(bad)).toMatchObject({
        t: 'error',
        code: ErrorCode.badFrame,
      });
    }
    expect(await request(ca, { t: 'search', q: 'needle', with: 'nobody-known' })).toMatchObject({
      code: ErrorCode.noSuchUser,
    });
    await ca.close();
  });

  it('pages with before and more, and takes a token of the read budget like history', async () => {
    const tight = await startServer({ rate: 100_000, readRate: 1 });
    try {
      const a = await register(tight.url);
      const b = await register(tight.url);
      const ca = await chatSession(tight.wsUrl, a.token);
      const m1 = await sendMsg(ca, b.id, 'page one');
      const m2 = await sendMsg(ca, b.id, 'page two');
      const first = await request(ca, { t: 'search', q: 'page', limit: 1 });
      expect(first).toMatchObject({ items: [{ msg: { id: m2.id } }], more: true });
      const second = await request(ca, { t: 'search', q: 'page', limit: 1, before: m2.cursor });
      expect(second).toMatchObject({ items: [{ msg: { id: m1.id } }], more: false });
      // The budget (2 at first, one a second) is spent: the next read is refused with its rid.
      const third = await request(ca, { t: 'search', q: 'page' });
      expect(third).toMatchObject({ t: 'error', code: ErrorCode.rateLimited });
      expect(third.retryAfterMs).toBeGreaterThan(0);
      await refused(ca, { t: 'settings' }, ErrorCode.rateLimited);
      await ca.close();
    } finally {
      await tight.stop();
    }
  });
});

describe('bounded answers and the legacy endpoint', () => {
  it('a search answer stops before 1 MiB of UTF-8, keeping the newest, with more: true', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await chatSession(s.wsUrl, a.token);
    // Each body escapes to ~24 KB of JSON (a control character is 6 bytes as \u0001): 50 of
    // them are over the bound, which the first ~43 fill.
    const body = `needle ${'\u0001'.repeat(LIMITS.bodyMaxLength - 7)}`;
    const sent: string[] = [];
    for (let i = 0; i < LIMITS.searchMaxLimit; i++) sent.push(String((await sendMsg(ca, b.id, body)).id));
    const rid = 'big';
    ca.send({ t: 'search', q: 'needle', limit: LIMITS.searchMaxLimit, rid });
    const raw = await ca
      .until(() => ca.raw.some((t) => t.includes('"rid":"big"')), 'the search answer')
      .then(() => ca.raw.find((t) => t.includes('"rid":"big"'))!);
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(LIMITS.answerMaxBytes);
    const answer = JSON.parse(raw) as { items: { msg: { id: string } }[]; more: boolean };
    expect(answer.more).toBe(true);
    expect(answer.items.length).toBeGreaterThan(1);
    expect(answer.items.length).toBeLessThan(LIMITS.searchMaxLimit);
    // Newest first: the kept items are the newest ones.
    expect(answer.items.map((i) => i.msg.id)).toEqual([...sent].reverse().slice(0, answer.items.length));
    await ca.close();
  });

  it('a legacy account sees the current body of an edited message and the placeholder of a deleted one, and nothing else', async () => {
    const legacyServer = await startServer({ legacy: true, rate: 100_000 });
    try {
      const a = await register(legacyServer.url);
      const lx = `lx${Date.now().toString(36)}`;
      // Creates the legacy account, then leaves: the messages wait in its mailbox.
      const first = await Client.open(`${legacyServer.wsUrl}/legacy?user=${lx}`);
      await first.close();
      const ca = await chatSession(legacyServer.wsUrl, a.token);
      const edited = await sendMsg(ca, lx, 'first version');
      const deleted = await sendMsg(ca, lx, 'going away');
      await ok(ca, { t: 'edit', from: a.id, id: edited.id, body: 'second version' });
      await ok(ca, { t: 'react', from: a.id, id: edited.id, emoji: '👍' });
      await ok(ca, { t: 'delete', from: a.id, id: deleted.id });
      await sendMsg(ca, lx, 'last');
      const back = await Client.open(`${legacyServer.wsUrl}/legacy?user=${lx}`);
      await back.until(() => back.raw.length === 3, 'three bodies');
      expect(back.raw).toEqual(['second version', DELETED_BODY, 'last']);
      await Promise.all([ca.close(), back.close()]);
    } finally {
      await legacyServer.stop();
    }
  });
});
