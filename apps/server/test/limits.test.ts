import { CloseCode } from '@pigeon/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import {
  Client,
  FakeClock,
  fence,
  http,
  mid,
  type Running,
  register,
  sendAndWait,
  session,
  startServer,
  uid,
} from './helpers.js';

let r: Running | null = null;
afterEach(async () => {
  await r?.stop();
  r = null;
});

async function start(overrides: Partial<Config>): Promise<Running> {
  r = await startServer(overrides);
  return r;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Opens /ws and says hello; resolves with the client once welcome or a close arrives. */
async function hello(s: Running, token: string): Promise<Client> {
  const c = await Client.open(`${s.wsUrl}/ws`);
  c.send({ t: 'hello', v: 1, token });
  await c.until(() => c.closeInfo !== null || c.frames.some((f) => f.t === 'synced'), 'synced or close');
  return c;
}

describe('connection caps', () => {
  it('PIGEON_MAX_CONNS_PER_USER: the 3rd of 3 opens, the 4th closes 4029; a freed slot is usable again', async () => {
    const s = await start({ maxConnsPerUser: 3 });
    const a = await register(s.url);
    const open = [await hello(s, a.token), await hello(s, a.token), await hello(s, a.token)];
    expect(open.every((c) => c.closeInfo === null)).toBe(true);
    const fourth = await hello(s, a.token);
    expect(fourth.closeInfo).toEqual({ code: CloseCode.tooMany, reason: 'user_connections' });
    expect(fourth.frames).toEqual([]);
    // Another user is not affected.
    const b = await register(s.url);
    expect((await hello(s, b.token)).closeInfo).toBeNull();
    await open[0]!.close();
    // The close is processed by the server before the next upgrade is (same socket order is
    // not guaranteed across sockets): wait for the gauge to say so.
    await waitMetric(s, 'pigeon_connections_open{kind="ws"}', 3);
    expect((await hello(s, a.token)).closeInfo).toBeNull();
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="conns_per_user"}')).toBe(1);
    expect(metric(m, 'pigeon_limit_value{limit="conns_per_user"}')).toBe(3);
  });

  it('PIGEON_MAX_CONNS_PER_IP counts sockets from the upgrade on: the 2nd of 2 opens, the 3rd closes 4029', async () => {
    const s = await start({ maxConnsPerIp: 2 });
    const c1 = await Client.open(`${s.wsUrl}/ws`);
    const c2 = await Client.open(`${s.wsUrl}/ws`);
    const c3 = await Client.open(`${s.wsUrl}/ws`);
    expect(await c3.waitClose()).toEqual({ code: CloseCode.tooMany, reason: 'address_connections' });
    const a = await register(s.url);
    c1.send({ t: 'hello', v: 1, token: a.token });
    await c1.waitFor((f) => f.t === 'synced');
    expect(c2.closeInfo).toBeNull();
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="conns_per_ip"}')).toBe(1);
  });
});

async function waitMetric(s: Running, name: string, value: number): Promise<void> {
  for (;;) {
    if (metric((await http(s.url, 'GET', '/metrics')).text, name) === value) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('hello rates', () => {
  it('PIGEON_HELLO_RATE per user: 3 a minute pass, the 4th closes 4029; one comes back after 20 s', async () => {
    const clock = new FakeClock();
    const s = await start({ helloRateUser: 3, clock: clock.now });
    const a = await register(s.url);
    for (let i = 0; i < 3; i++) await (await hello(s, a.token)).close();
    const refused = await hello(s, a.token);
    expect(refused.closeInfo?.code).toBe(CloseCode.tooMany);
    expect(refused.closeInfo?.reason).toBe('hello_rate');
    clock.advance(19_999);
    expect((await hello(s, a.token)).closeInfo?.code).toBe(CloseCode.tooMany);
    clock.advance(1);
    expect((await hello(s, a.token)).closeInfo).toBeNull();
  });

  it('PIGEON_HELLO_RATE_IP per address, checked before the token: 2 pass, the 3rd closes 4029 even with a bad token', async () => {
    const clock = new FakeClock();
    const s = await start({ helloRateIp: 2, clock: clock.now });
    const a = await register(s.url);
    const b = await register(s.url);
    await (await hello(s, a.token)).close();
    await (await hello(s, b.token)).close();
    const bad = await hello(s, 'garbage');
    expect(bad.closeInfo?.code).toBe(CloseCode.tooMany);
    expect(bad.closeInfo?.reason).toBe('hello_rate');
    clock.advance(30_000);
    expect((await hello(s, a.token)).closeInfo).toBeNull();
  });
});

describe('typing throttle', () => {
  it('forwards one typing per sender→recipient per 2 s and drops the rest silently', async () => {
    const clock = new FakeClock();
    const s = await start({ clock: clock.now });
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const cb = await session(s.wsUrl, b.token);
    for (let i = 0; i < 1000; i++) ca.send({ t: 'typing', to: b.id });
    await fence(ca);
    await fence(cb);
    expect(cb.frames.filter((f) => f.t === 'typing')).toHaveLength(1);
    expect(ca.frames.filter((f) => f.t === 'error')).toEqual([]);
    clock.advance(1999);
    ca.send({ t: 'typing', to: b.id });
    await fence(ca);
    await fence(cb);
    expect(cb.frames.filter((f) => f.t === 'typing')).toHaveLength(1);
    clock.advance(1);
    ca.send({ t: 'typing', to: b.id });
    await cb.until(() => cb.frames.filter((f) => f.t === 'typing').length === 2, 'second typing');
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="typing_rate"}')).toBe(1000);
  });
});

describe('presence rate', () => {
  it('5 subscriptions at once per connection, then one every 2 s; extra ones wait and the latest wins', async () => {
    const clock = new FakeClock();
    const s = await start({ clock: clock.now });
    const a = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const states = () => ca.frames.filter((f) => f.t === 'presence').map((f) => f.user);
    for (let i = 1; i <= 7; i++) ca.send({ t: 'presence', users: [`p${i}`] });
    await fence(ca);
    expect(states()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    clock.advance(1999);
    await fence(ca);
    expect(states()).toHaveLength(5);
    clock.advance(1);
    // Whatever frame comes next finds the token and applies the latest list first.
    await fence(ca);
    expect(states()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p7']);
    // Another connection of the same user has its own bucket.
    const ca2 = await session(s.wsUrl, a.token);
    ca2.send({ t: 'presence', users: ['q1'] });
    await ca2.waitFor((f) => f.t === 'presence' && f.user === 'q1');
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="presence_rate"}')).toBe(2);
  });
});

describe('read budget', () => {
  it('PIGEON_READ_RATE: 2×rate history/conversations pass, the next is rate_limited with its rid and a wait', async () => {
    const clock = new FakeClock();
    const s = await start({ readRate: 2, clock: clock.now });
    const a = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const frames = [
      { t: 'conversations', rid: 'r1' },
      { t: 'history', with: a.id, rid: 'r2' },
      { t: 'conversations', rid: 'r3' },
      { t: 'history', with: a.id, rid: 'r4' },
      { t: 'conversations', rid: 'r5' },
    ];
    for (const f of frames) ca.send(f);
    const answers = await Promise.all(frames.map((f) => ca.waitFor((x) => x.rid === f.rid)));
    expect(answers.slice(0, 4).map((x) => x.t)).toEqual([
      'conversations',
      'history',
      'conversations',
      'history',
    ]);
    expect(answers[4]).toMatchObject({ t: 'error', code: 'rate_limited', rid: 'r5', retryAfterMs: 500 });
    clock.advance(500);
    ca.send({ t: 'conversations', rid: 'r6' });
    expect((await ca.waitFor((x) => x.rid === 'r6')).t).toBe('conversations');
    // A refused read is not a bad frame: the connection stays open however many there are.
    for (let i = 0; i < 150; i++) ca.send({ t: 'conversations', rid: `x${i}` });
    await ca.waitFor((x) => x.rid === 'x149');
    expect(ca.closeInfo).toBeNull();
  });

  it('finding 1: an honest pong is answered while a pipelined flood of reads is still being served', async () => {
    const s = await start({ readRate: 1e9, rate: 1e9 });
    const mallory = await register(s.url);
    const cm = await session(s.wsUrl, mallory.token);
    await sendAndWait(cm, mallory.id, 'x'.repeat(3000));
    const alice = await register(s.url);
    const ca = await session(s.wsUrl, alice.token);
    const N = 600;
    for (let i = 0; i < N; i++) cm.send({ t: 'history', with: mallory.id, rid: `m${i}` });
    await cm.waitFor((f) => f.rid === 'm0');
    const rid = mid('honest');
    ca.send({ t: 'ping', rid });
    await ca.waitFor((f) => f.t === 'pong' && f.rid === rid);
    // The server handled alice's ping between mallory's reads, not after all of them.
    const answered = cm.frames.filter((f) => f.t === 'history').length;
    expect(answered).toBeLessThan(N);
    await cm.waitFor((f) => f.rid === `m${N - 1}`, 'the last answer', 30_000);
  });
});

describe('unsent bytes per user', () => {
  it('several non-reading connections of one user together stay under PIGEON_MAX_BUFFERED_USER: the fullest is closed 4008', async () => {
    // The kernel's socket buffers on loopback hold several MB per connection before
    // anything stays in the server's own buffers: send well past that.
    const s = await start({
      rate: 1e9,
      maxBufferedBytes: 64 * 1024 * 1024,
      maxBufferedUserBytes: 4 * 1024 * 1024,
    });
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const stalled = await Promise.all([0, 1].map(() => session(s.wsUrl, b.token)));
    for (const c of stalled) (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const body = 'y'.repeat(4000);
    const ids = Array.from({ length: 3000 }, () => mid('u'));
    for (const id of ids) ca.send({ t: 'send', id, to: b.id, body });
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length === ids.length, 'all sent', 30_000);
    for (const c of stalled) (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const codes = await Promise.all(stalled.map((c) => c.waitClose(15_000).then((i) => i.code)));
    expect(codes).toContain(4008);
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="unsent_per_user"}')).toBeGreaterThanOrEqual(1);
    // Nothing is lost: a fresh connection replays every entry.
    const again = await session(s.wsUrl, b.token);
    expect(again.backlog.map((f) => f.id)).toEqual(ids);
    // 12 MB through the store and, on test:cluster, through Redis: every wait above is
    // bounded on its own; the whole test gets room for their sum on a loaded machine.
  }, 90_000);
});

describe('error messages', () => {
  it('quote at most a short excerpt of client input', async () => {
    const s = await start({});
    const a = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    ca.send({ t: `z${'q'.repeat(60_000)}` });
    const e = await ca.waitFor((f) => f.t === 'error');
    expect(e.code).toBe('bad_frame');
    expect(String(e.message).length).toBeLessThanOrEqual(201);
    expect(uid()).not.toBe('');
  });
});

describe('frame budget', () => {
  it('PIGEON_FRAME_RATE: a burst past 2×rate is still answered, then the socket is not read for a while; others are not held', async () => {
    const s = await start({ frameRate: 1000 });
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const cb = await session(s.wsUrl, b.token);
    // 2,000 frames of budget (and the hello), then 600 of debt: about 0.6 s without reading.
    for (let i = 0; i < 2600; i++) ca.send({ t: 'ping', rid: `p${i}` });
    await ca.waitFor((f) => f.rid === 'p2599', 'the whole burst answered', 15_000);
    ca.send({ t: 'ping', rid: 'late' });
    await fence(cb);
    expect(ca.frames.some((f) => f.rid === 'late')).toBe(false);
    await ca.waitFor((f) => f.rid === 'late', 'the late ping, once the debt is paid', 15_000);
    const m = (await http(s.url, 'GET', '/metrics')).text;
    expect(metric(m, 'pigeon_limit_hits_total{limit="frame_rate"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('lone surrogates (issue 9, finding 8)', () => {
  it('a body with a lone surrogate is bad_frame with its id and is not stored; a paired one is fine', async () => {
    const s = await start({});
    const a = await register(s.url);
    const b = await register(s.url);
    const ca = await session(s.wsUrl, a.token);
    const lone = mid('lone');
    ca.send({ t: 'send', id: lone, to: b.id, body: `x\ud800y` });
    expect(await ca.waitFor((f) => f.t === 'error' && f.id === lone)).toMatchObject({ code: 'bad_frame' });
    expect((await sendAndWait(ca, b.id, 'pair 🐦')).t).toBe('sent');
    ca.send({ t: 'history', with: b.id, rid: 'h' });
    const h = await ca.waitFor((f) => f.rid === 'h');
    expect((h.items as { body: string }[]).map((m) => m.body)).toEqual(['pair 🐦']);
  });
});
