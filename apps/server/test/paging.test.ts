import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  type Frame,
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
  s = await startServer({ rate: 1e9, readRate: 1e9 });
});
afterAll(() => s.stop());

/** A session that asked for `paging` (welcome.features says it got it). */
async function pagingSession(token: string): Promise<Session> {
  const c = (await Client.open(`${s.wsUrl}/ws`)) as Session;
  c.send({ t: 'hello', v: 1, token, features: ['paging'] });
  c.welcome = await c.next((f) => f.t === 'welcome');
  expect(c.welcome.features).toEqual(['paging']);
  await c.next((f) => f.t === 'synced');
  return c;
}

async function ask(c: Client, frame: Record<string, unknown>): Promise<Frame> {
  const rid = mid('rid');
  c.send({ ...frame, rid });
  return c.waitFor((f) => f.rid === rid, `answer to ${frame.t}`);
}

describe('paging: conversations', () => {
  it('pages newest first with limit, before and more; a foreign before is bad_frame; version 1 ignores the fields', async () => {
    const a = await register(s.url);
    const peers = [];
    for (let i = 0; i < 5; i++) peers.push(await register(s.url));
    const ca = await pagingSession(a.token);
    for (const p of peers) await sendAndWait(ca, p.id, `to ${p.id}`);
    const newestFirst = [...peers].reverse().map((p) => p.id);
    const seen: string[] = [];
    let before: unknown;
    for (const [n, more] of [
      [2, true],
      [2, true],
      [1, false],
    ] as const) {
      const page = await ask(ca, { t: 'conversations', limit: 2, ...(before ? { before } : {}) });
      const rows = page.items as { with: string; last: Frame }[];
      expect(rows).toHaveLength(n);
      expect(page.more).toBe(more);
      seen.push(...rows.map((r) => r.with));
      before = rows.at(-1)!.last.cursor;
    }
    expect(seen).toEqual(newestFirst);
    // The default page is 50; limits outside 1–100 are bad_frame.
    expect(((await ask(ca, { t: 'conversations' })).items as unknown[]).length).toBe(5);
    for (const limit of [0, 101])
      expect((await ask(ca, { t: 'conversations', limit })).code).toBe('bad_frame');
    const cp = await session(s.wsUrl, peers[0]!.token);
    const theirs = ((await ask(cp, { t: 'conversations' })).items as { last: Frame }[])[0]!.last.cursor;
    expect(await ask(ca, { t: 'conversations', before: theirs })).toMatchObject({
      t: 'error',
      code: 'bad_frame',
    });
    // A version-1 connection: the fields are unknown, so ignored; no `more`.
    const v1 = await session(s.wsUrl, a.token);
    const all = await ask(v1, { t: 'conversations', limit: 1, before: theirs });
    expect((all.items as unknown[]).length).toBe(5);
    expect(all).not.toHaveProperty('more');
  });
});

describe('paging: history forwards', () => {
  it('after gives the oldest limit entries newer than it, oldest first, with more', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await pagingSession(a.token);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String((await sendAndWait(ca, b.id, `m${i}`)).id));
    const all = (await ask(ca, { t: 'history', with: b.id })).items as Frame[];
    expect(all.map((m) => m.id)).toEqual(ids);
    const p1 = await ask(ca, { t: 'history', with: b.id, after: all[2]!.cursor, limit: 4 });
    expect((p1.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(3, 7));
    expect(p1.more).toBe(true);
    const p2 = await ask(ca, {
      t: 'history',
      with: b.id,
      after: (p1.items as Frame[]).at(-1)!.cursor,
      limit: 4,
    });
    expect((p2.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(7));
    expect(p2.more).toBe(false);
    const cb = await session(s.wsUrl, b.token);
    const theirs = ((await ask(cb, { t: 'history', with: a.id })).items as Frame[])[0]!.cursor;
    expect(await ask(ca, { t: 'history', with: b.id, after: theirs })).toMatchObject({ code: 'bad_frame' });
    expect(
      await ask(ca, { t: 'history', with: b.id, after: all[0]!.cursor, before: all[5]!.cursor }),
    ).toMatchObject({
      code: 'bad_frame',
    });
  });
});
