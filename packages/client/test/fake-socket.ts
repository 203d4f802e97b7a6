import type { ClientFrame, ServerFrame } from '@pigeon/protocol';
import type { WebSocketConstructor } from '../src/platform-types.js';

/**
 * An in-memory stand-in for a WebSocket, for unit tests of the client's state machines only
 * (reconnect timing, watchdog, batching). Behaviour against a real server is tested in
 * test/integration with real sockets.
 */
export class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: ClientFrame[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as ClientFrame);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  // ---- the "server" side

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  push(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  framesOf<T extends ClientFrame['t']>(t: T): Extract<ClientFrame, { t: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { t: T }> => f.t === t);
  }

  static reset(): void {
    FakeSocket.instances = [];
  }

  static last(): FakeSocket {
    const s = FakeSocket.instances.at(-1);
    if (!s) throw new Error('no socket was opened');
    return s;
  }
}

export const FakeWebSocket = FakeSocket as unknown as WebSocketConstructor;

export function msg(cursor: string, id: string, from = 'bob', to = 'alice', body = `body ${id}`) {
  return { t: 'msg' as const, cursor, id, from, to, body, ts: 1_700_000_000_000, delivered: false };
}
