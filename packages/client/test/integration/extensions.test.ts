import { CloseCode, LIMITS } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStatus, createClient, memoryStorage, type PigeonClient } from '../../src/index.js';
import { NodeWebSocket } from '../../src/node/index.js';
import { recordingWebSocket } from '../recording-socket.js';
import { ServerProcess, waitFor } from '../server-process.js';

// The client against the real server's limits and extensions (PROTOCOL.md "Extensions").

const server = new ServerProcess({ PIGEON_RATE: '1000', PIGEON_MAX_CONNS_PER_USER: '1' });
const clients: PigeonClient[] = [];

function client(opts: Partial<Parameters<typeof createClient>[0]> = {}) {
  const c = createClient({ server: server.url, WebSocket: NodeWebSocket, storage: memoryStorage(), ...opts });
  clients.push(c);
  return c;
}

beforeAll(() => server.start());
afterAll(async () => {
  for (const c of clients) c.stop();
  await server.dispose();
});

describe('connection caps', () => {
  it('a device over the per-user cap is told 4029 and waits at least tooManyBackoffMs, without hammering', async () => {
    const first = client();
    await first.register('cap_alice', 'password123');
    await first.start();
    await first.whenOnline();
    const { WebSocket, wire } = recordingWebSocket();
    const second = client({ WebSocket });
    await second.login('cap_alice', 'password123');
    const refusals: { at: number; status: ClientStatus }[] = [];
    second.status.subscribe((s) => {
      if (s.state === 'reconnecting') refusals.push({ at: Date.now(), status: s });
    });
    await second.start();
    await waitFor(() => refusals.length > 0, 10_000, 'the refusal');
    expect(refusals[0]?.status.reason).toBe(`closed_${CloseCode.tooMany}`);
    expect(wire.sockets).toBe(1);
    // Room is made: "Retry now" gets in (once the server has seen the first one go).
    first.stop();
    await first.persisted();
    second.reconnectNow();
    await second.whenOnline();
    // Every refusal was followed by a pause of at least tooManyBackoffMs: no hammering.
    for (const r of refusals) {
      expect(r.status.reason).toBe(`closed_${CloseCode.tooMany}`);
      expect((r.status.nextAttemptAt ?? 0) - r.at).toBeGreaterThanOrEqual(LIMITS.tooManyBackoffMs);
    }
    expect(wire.sockets).toBe(refusals.length + 1);
  });
});

describe('negotiation against the real server', () => {
  it('a client asking for paging gets welcome.features (what the server offers) and working conversations', async () => {
    const alice = client({ features: ['paging'] });
    await alice.register('neg_alice', 'password123');
    const bob = client();
    await bob.register('neg_bob', 'password123');
    await alice.start();
    await alice.whenOnline();
    // The server answers with what it enables; every name in it is one the client asked for.
    for (const f of alice.features.get()) expect(['paging']).toContain(f);
    alice.send('neg_bob', 'hello');
    await alice.flush();
    const rows = await alice.conversations();
    expect(rows.map((r) => [r.with, r.last.body])).toEqual([['neg_bob', 'hello']]);
    await expect(alice.conversationsPage({ limit: 1 })).resolves.toMatchObject({
      items: [{ with: 'neg_bob' }],
    });
  });
});

describe('sessions on the real server', () => {
  it('logout({revoke}) kills the token on the server; changePassword keeps this device and signs out the others', async () => {
    const storage = memoryStorage();
    const phone = client({ storage });
    await phone.register('sess_alice', 'password123');
    const token = JSON.parse((storage.dump()['pigeon:session'] as string) ?? '{}').token as string;
    await phone.logout({ revoke: 'session' });
    // The revoked token is refused like an invalid one (4001).
    const replay = client();
    await replay.useToken('sess_alice', token);
    await replay.start();
    await expect(replay.whenOnline()).rejects.toMatchObject({ code: 'stopped' });
    expect(replay.status.get().state).toBe('unauthorized');

    const laptop = client();
    await laptop.login('sess_alice', 'password123');
    const desk = client();
    await desk.login('sess_alice', 'password123');
    await laptop.start();
    await laptop.whenOnline();
    await expect(laptop.changePassword('wrong password', 'new password 1')).rejects.toMatchObject({
      status: 403,
      code: 'bad_credentials',
    });
    await expect(laptop.changePassword('password123', 'short')).rejects.toMatchObject({
      code: 'weak_password',
    });
    await laptop.changePassword('password123', 'new password 1');
    // This device stays online and later reconnects with its fresh token...
    expect(laptop.status.get().state).toBe('online');
    laptop.stop();
    await laptop.start();
    await laptop.whenOnline();
    // ...the other device's token was revoked, and the old password no longer signs in.
    await desk.start();
    await expect(desk.whenOnline()).rejects.toMatchObject({ code: 'stopped' });
    await expect(client().login('sess_alice', 'password123')).rejects.toMatchObject({
      code: 'bad_credentials',
    });
    await laptop.logout({ revoke: 'everywhere' });
    const again = client();
    await again.login('sess_alice', 'new password 1');
    await again.logout({ revoke: 'session' });
  });
});
