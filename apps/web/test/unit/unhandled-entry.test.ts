import type { MsgFrame } from '@pigeon/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Issue 9.4 end to end inside the page: the REAL client (@pigeon/client, not a stand-in) under
 * the web app's bridge, fed by a scripted socket. An entry the app cannot handle is not
 * acknowledged (so the server keeps it for the next connection), the entries around it are
 * shown, and the user stays signed in.
 */
class ScriptedSocket {
  static last: ScriptedSocket | null = null;
  readyState = 0;
  sent: { t: string; cursor?: string }[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    ScriptedSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { t: string; cursor?: string });
  }
  close(): void {
    this.readyState = 3;
  }
  push(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function entry(cursor: string, id: string, from: string, to: string): MsgFrame {
  return { t: 'msg', cursor, id, from, to, body: `body ${id}`, ts: 1_700_000_000_000, delivered: false };
}

const realWebSocket = globalThis.WebSocket;
const realFetch = globalThis.fetch;

beforeEach(() => {
  localStorage.clear();
  vi.resetModules();
  globalThis.WebSocket = ScriptedSocket as unknown as typeof WebSocket;
  globalThis.fetch = vi.fn(
    async () =>
      new Response(JSON.stringify({ user: 'alice', token: 'token-alice' }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      }),
  ) as typeof fetch;
});

afterEach(() => {
  globalThis.WebSocket = realWebSocket;
  globalThis.fetch = realFetch;
});

describe('an entry the app cannot handle, with the real client', () => {
  it('is not acked, the others are shown, and the user stays signed in', async () => {
    const bridge = await import('../../src/store/client-bridge');
    const { useChatStore } = await import('../../src/store/chat-store');
    await bridge.boot();
    expect(await bridge.signIn('signin', 'alice', 'password1')).toBeNull();
    await vi.waitFor(() => expect(ScriptedSocket.last?.sent.some((f) => f.t === 'hello')).toBe(true));
    const sock = ScriptedSocket.last!;
    sock.push({ t: 'welcome', v: 1, user: 'alice', head: 'c3' });
    sock.push(entry('c1', 'good-1', 'bob', 'alice'));
    // Well-formed for the codec, but not of this mailbox: the app refuses it.
    sock.push(entry('c2', 'foreign', 'bob', 'carol'));
    sock.push(entry('c3', 'good-2', 'constructor', 'alice'));
    sock.push({ t: 'synced', head: 'c3', gap: false });
    await vi.waitFor(() => {
      const s = useChatStore.getState();
      expect(s.conversations.get('bob')?.messages.map((m) => m.id)).toEqual(['good-1']);
      expect(s.conversations.get('constructor')?.messages.map((m) => m.id)).toEqual(['good-2']);
    });
    await vi.waitFor(() => expect(sock.sent.filter((f) => f.t === 'ack').length).toBeGreaterThan(0));
    // Acks are cumulative: nothing at or after the refused entry is acknowledged.
    expect(sock.sent.filter((f) => f.t === 'ack').map((f) => f.cursor)).toEqual(['c1']);
    expect(useChatStore.getState()).toMatchObject({ auth: 'signed-in', me: 'alice' });
    expect(useChatStore.getState().conversations.has('carol')).toBe(false);
  });
});
