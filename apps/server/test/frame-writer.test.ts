import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameWriter } from '../src/ws/frame-writer.js';

/** A real server side of one WebSocket connection, with its upgrade socket, and its client. */
async function pair(): Promise<{
  server: WebSocket;
  socket: Duplex;
  client: WebSocket;
  received: string[];
  events: string[];
  close(): Promise<void>;
}> {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const accepted = new Promise<{ server: WebSocket; socket: Duplex }>((resolve) => {
    httpServer.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => resolve({ server: ws, socket })),
    );
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  const received: string[] = [];
  const events: string[] = [];
  client.on('message', (data) => {
    received.push(data.toString());
    events.push('message');
  });
  client.on('ping', () => events.push('ping'));
  client.on('close', (code) => events.push(`close ${code}`));
  await new Promise((resolve) => client.once('open', resolve));
  const { server, socket } = await accepted;
  return {
    server,
    socket,
    client,
    received,
    events,
    async close() {
      client.terminate();
      server.terminate();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
}

/** Counts the writes that reach the socket's underlying handle (one writev = one). */
function countWrites(socket: Duplex): { count: number } {
  const counter = { count: 0 };
  const s = socket as Duplex & {
    _write: (...a: unknown[]) => unknown;
    _writev: (...a: unknown[]) => unknown;
  };
  const write = s._write.bind(s);
  const writev = s._writev.bind(s);
  s._write = (...a) => {
    counter.count++;
    return write(...a);
  };
  s._writev = (...a) => {
    counter.count++;
    return writev(...a);
  };
  return counter;
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
};

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

describe('FrameWriter', () => {
  it('sends the frames of one turn in order, in one write, at every length boundary', async () => {
    const p = await pair();
    cleanup = p.close;
    const out = new FrameWriter(p.server, p.socket);
    // 7-bit, 16-bit and 64-bit payload lengths at their edges, and multi-byte UTF-8.
    const texts = [125, 126, 127, 65_535, 65_536, 70_000].map((n) => 'x'.repeat(n));
    texts.push('中文 é 😀'.repeat(50), '');
    const writes = countWrites(p.socket);
    for (const t of texts) out.text(t);
    expect(writes.count).toBe(0);
    // Text payloads are counted in UTF-16 units (a lower bound of their bytes), headers in bytes.
    expect(out.unsent).toBeGreaterThanOrEqual(texts.reduce((n, t) => n + t.length, 0));
    await until(() => p.received.length === texts.length);
    expect(p.received).toEqual(texts);
    expect(writes.count).toBe(1);
    // The next turn is a write of its own.
    out.text('next');
    await until(() => p.received.length === texts.length + 1);
    expect(writes.count).toBe(2);
  });

  it('flush() puts the turn on the wire before a close, and ws control frames keep their place', async () => {
    const p = await pair();
    cleanup = p.close;
    const out = new FrameWriter(p.server, p.socket);
    out.text('one');
    p.server.ping();
    out.text('two');
    out.flush();
    p.server.close(1001, 'bye');
    // After the close, sending is a no-op, not an error.
    out.text('after close');
    await until(() => p.events.includes('close 1001'));
    expect(p.events).toEqual(['message', 'ping', 'message', 'close 1001']);
    expect(p.received).toEqual(['one', 'two']);
  });

  it('drainBelow waits until the client has read enough', async () => {
    const p = await pair();
    cleanup = p.close;
    const out = new FrameWriter(p.server, p.socket);
    // The client stops reading: 8 MiB cannot all leave.
    p.client.pause();
    const chunk = 'y'.repeat(60_000);
    for (let i = 0; i < 140; i++) out.text(chunk);
    out.flush();
    let drained = false;
    const waiting = out.drainBelow(1024 * 1024).then(() => {
      drained = true;
    });
    // Let the kernel take what it can: the buffer stays above the bound while nobody reads.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    expect(out.unsent).toBeGreaterThan(1024 * 1024);
    p.client.resume();
    await waiting;
    expect(out.unsent).toBeLessThanOrEqual(1024 * 1024);
    await until(() => p.received.length === 140);
  });
});
