import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, memoryStorage, type PigeonClient, PigeonHttpError } from '../../src/index.js';
import { NodeWebSocket } from '../../src/node/index.js';
import { recordingWebSocket } from '../recording-socket.js';
import { ServerProcess, waitFor } from '../server-process.js';

// Login, requests, receipts, presence and typing against the real server process.

const server = new ServerProcess({ PIGEON_RATE: '1000' });
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

describe('session over HTTP', () => {
  it('registers, logs in, and maps HTTP failures to PigeonHttpError codes', async () => {
    const a = client();
    await expect(a.register('Sess_Alice', 'password123')).resolves.toMatchObject({ user: 'sess_alice' });
    expect(a.user).toBe('sess_alice');
    await expect(client().register('sess_alice', 'password123')).rejects.toMatchObject({
      status: 409,
      code: 'user_taken',
    });
    await expect(client().register('weak_pw', 'x'.repeat(7))).rejects.toMatchObject({
      code: 'weak_password',
    });
    await expect(client().register('bad id!', 'password123')).rejects.toMatchObject({ code: 'invalid_user' });
    await expect(client().login('sess_alice', 'wrong-password')).rejects.toMatchObject({
      status: 401,
      code: 'bad_credentials',
    });
    await expect(client().login('sess_alice', 'password123')).resolves.toMatchObject({ user: 'sess_alice' });
    const unreachable = createClient({ server: 'http://127.0.0.1:1', WebSocket: NodeWebSocket });
    const err = await unreachable.login('x', 'password123').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PigeonHttpError);
    expect(err).toMatchObject({ status: 0, code: 'unreachable' });
  });

  it('restores a persisted session and stops for good on a refused token', async () => {
    const storage = memoryStorage();
    const a = client({ storage });
    await a.register('sess_restore', 'password123');
    const b = client({ storage });
    await expect(b.restore()).resolves.toMatchObject({ user: 'sess_restore' });
    await b.start();
    await b.whenOnline();

    const { WebSocket, wire } = recordingWebSocket();
    const bad = client({ WebSocket });
    await bad.useToken('sess_restore', 'not-a-token');
    let unauthorized = 0;
    bad.on('unauthorized', () => unauthorized++);
    await bad.start();
    await expect(bad.whenOnline()).rejects.toMatchObject({ code: 'stopped' });
    expect(bad.status.get().state).toBe('unauthorized');
    expect(unauthorized).toBe(1);
    // No attempt is scheduled (a negative checked on the state, not by sleeping).
    expect(bad.nextAttemptIn()).toBeNull();
    expect(wire.sockets).toBe(1);
  });
});

describe('messaging', () => {
  it('sends, echoes, delivers with a receipt, and answers history and conversations', async () => {
    const alice = client();
    const bob = client();
    await alice.register('msg_alice', 'password123');
    await bob.register('msg_bob', 'password123');
    await alice.start();
    await alice.whenOnline();
    const aliceSaw: string[] = [];
    alice.on('message', (m) => {
      aliceSaw.push(`${m.from}>${m.to}:${m.body}`);
    });
    const receipts: string[] = [];
    alice.on('receipt', (r) => receipts.push(r.id));

    const first = alice.send('MSG_BOB', 'hello bob');
    await alice.flush();
    expect(alice.outbox().find((i) => i.id === first.id)).toMatchObject({ state: 'sent', to: 'msg_bob' });

    const bobSaw: string[] = [];
    bob.on('message', (m) => {
      bobSaw.push(`${m.from}>${m.to}:${m.body}`);
    });
    await bob.start(); // offline message arrives in the backlog
    await waitFor(() => receipts.includes(first.id), 5000, 'receipt');
    expect(bobSaw).toEqual(['msg_alice>msg_bob:hello bob']);
    expect(aliceSaw).toEqual(['msg_alice>msg_bob:hello bob']);
    expect(alice.outbox().find((i) => i.id === first.id)?.state).toBe('delivered');

    const page = await bob.history('msg_alice', { limit: 10 });
    expect(page.more).toBe(false);
    expect(page.items.map((m) => [m.id, m.body, m.delivered])).toEqual([[first.id, 'hello bob', true]]);
    const convs = await alice.conversations();
    expect(convs.map((c) => [c.with, c.last.body])).toEqual([['msg_bob', 'hello bob']]);
    await expect(alice.history('nobody_here')).rejects.toMatchObject({ code: 'no_such_user' });

    const failed = alice.send('nobody_here', 'to the void');
    await alice.flush();
    expect(alice.outbox().find((i) => i.id === failed.id)).toMatchObject({
      state: 'failed',
      error: 'no_such_user',
    });
    const tooBig = alice.send('msg_bob', 'x'.repeat(4001));
    expect(tooBig).toMatchObject({ state: 'failed', error: 'too_large' });
    const largest = alice.send('msg_bob', 'y'.repeat(4000));
    await alice.flush();
    expect(alice.outbox().find((i) => i.id === largest.id)?.state).not.toBe('failed');
  });

  it('forwards typing and presence', async () => {
    const alice = client();
    const bob = client();
    await alice.register('tp_alice', 'password123');
    await bob.register('tp_bob', 'password123');
    const presence: string[] = [];
    alice.on('presence', (p) => presence.push(`${p.user}:${p.online}`));
    alice.subscribePresence(['tp_bob']);
    await alice.start();
    await waitFor(() => presence.includes('tp_bob:false'), 5000, 'presence offline');
    const typing: string[] = [];
    alice.on('typing', (t) => typing.push(t.from));
    await bob.start();
    await waitFor(() => presence.includes('tp_bob:true'), 5000, 'presence online');
    bob.typing('tp_alice');
    bob.typing('tp_alice'); // throttled
    await waitFor(() => typing.length > 0, 5000, 'typing');
    // Fence: the server has handled bob's frames before his pong, and forwarded what it
    // forwards to alice before hers.
    await bob.ping();
    await alice.ping();
    expect(typing).toEqual(['tp_bob']);
  });
});
