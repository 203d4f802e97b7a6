import { LIMITS } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Frame, mid, type Running, register, session, startServer } from './helpers.js';

let s: Running;
beforeAll(async () => {
  s = await startServer({ rate: 1e9, readRate: 1e9 });
});
afterAll(() => s.stop());

describe('bounded answers (PROTOCOL.md "Bounded answers")', () => {
  it('a history page never passes 1 MiB: it keeps the newest items and says more; paging on reaches the rest', async () => {
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    // 100 messages of 4000 three-byte characters: 1.2 MB as one page.
    const ids = Array.from({ length: 100 }, () => mid('big'));
    for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: '€'.repeat(4000) });
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === 100, 'sent');
    ca.send({ t: 'history', with: b.id, limit: 100, rid: 'h1' });
    const page = await ca.waitFor((f) => f.rid === 'h1');
    const raw = ca.raw.find((t) => t.includes('"rid":"h1"'))!;
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(LIMITS.answerMaxBytes);
    const items = page.items as Frame[];
    expect(items.length).toBeLessThan(100);
    expect(items.length).toBeGreaterThan(80);
    expect(page.more).toBe(true);
    expect(items.map((m) => m.id)).toEqual(ids.slice(100 - items.length));
    ca.send({ t: 'history', with: b.id, limit: 100, before: items[0]!.cursor, rid: 'h2' });
    const rest = await ca.waitFor((f) => f.rid === 'h2');
    expect((rest.items as Frame[]).map((m) => m.id)).toEqual(ids.slice(0, 100 - items.length));
    expect(rest.more).toBe(false);
  });

  it('a version-1 conversations answer holds the newest 200 rows', async () => {
    const a = await register(s.url);
    const peers = [];
    for (let i = 0; i < 201; i++) peers.push(await register(s.url));
    const ca = await session(s.wsUrl, a.token);
    for (const p of peers) ca.send({ t: 'send', id: mid('c'), to: p.id, body: 'hi' });
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === 201, 'sent', 15_000);
    ca.send({ t: 'conversations', rid: 'c1' });
    const answer = await ca.waitFor((f) => f.rid === 'c1');
    const rows = answer.items as { with: string }[];
    expect(rows).toHaveLength(200);
    expect(rows[0]!.with).toBe(peers[200]!.id);
    expect(rows.map((r) => r.with)).not.toContain(peers[0]!.id);
    // Version 1 sees no new field.
    expect(answer).not.toHaveProperty('more');
  });
});
