/**
 * 100,000 fuzzed frames (issue 9): frames from the codec's own fast-check arbitraries
 * (every client frame type, valid and near-valid) mixed with protocol junk: random JSON
 * and text, fragmented messages, binary frames, oversize messages and text frames that
 * are not UTF-8. Each connection says hello first (so frames reach every handler), sends
 * a few hundred frames and ends with one of the closers; the next comes from a fresh
 * loopback address so per-address limits never stop the fuzzing.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import fc from 'fast-check';
import type { Attack } from './attacks.js';
import { type Account, type Conn, register, session } from './harness.js';

/** The protocol package's arbitraries (test code, loaded at run time so TypeScript does not compile it here). */
async function arbitraries(): Promise<fc.Arbitrary<unknown>> {
  const where = new URL('../../../packages/protocol/test/arbitraries.ts', import.meta.url).href;
  const mod = (await import(where)) as Record<string, fc.Arbitrary<unknown>>;
  return fc.oneof(mod.anyClientFrameArb!, mod.clientFrameArb!);
}

/** A masked client text frame carrying bytes that are not UTF-8 (ws refuses to send such a thing itself). */
function invalidUtf8Frame(): Buffer {
  const payload = Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0xfe, 0x7d]);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

const PER_CONNECTION = 400;

export const fuzz: Attack = {
  name: 'fuzzed frames',
  finding: '100,000 fuzzed frames (the review found no crash; kept that way)',
  async prepare({ server, scale }) {
    // Hellos are rate-limited per user: enough users that every connection gets one.
    // Registered before sampling: fc.sample blocks this process for seconds, so a kept-alive
    // socket from the previous attack outlives the server's keep-alive timeout unnoticed
    // (its client-side timer cannot run) and the next POST on it fails "other side closed".
    const connections = Math.ceil(scale.fuzzFrames / PER_CONNECTION) + 1;
    const fuzzers: Account[] = [];
    for (let i = 0; i < Math.ceil(connections / 25); i++) fuzzers.push(await register(server.url, 'fz'));
    const arb = await arbitraries();
    const junk = fc.oneof(
      fc.json(),
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    const frames = fc.sample(arb, Math.ceil(scale.fuzzFrames * 0.8)).map((f) => JSON.stringify(f));
    const junkFrames = fc.sample(junk, Math.ceil(scale.fuzzFrames * 0.2)).map(String);
    return async () => {
      let sent = 0;
      let conns = 0;
      let f = 0;
      let j = 0;
      const closes = new Map<number, number>();
      while (sent < scale.fuzzFrames) {
        const address = `127.0.${1 + Math.floor(conns / 250)}.${1 + (conns % 250)}`;
        const user = fuzzers[conns % fuzzers.length]!;
        conns++;
        const c: Conn | null = await session(server, user.token, address);
        if (!c) continue;
        for (let k = 0; k < PER_CONNECTION && sent < scale.fuzzFrames && !c.closed; k++, sent++) {
          if (k % 5 === 4) c.ws.send(junkFrames[j++ % junkFrames.length]!);
          else if (k % 97 === 96) {
            // A fragmented message: its pieces must be reassembled (or refused) as one.
            const text = frames[f++ % frames.length]!;
            const cut = Math.floor(text.length / 2);
            c.ws.send(text.slice(0, cut), { fin: false });
            c.ws.send(text.slice(cut), { fin: true });
          } else c.ws.send(frames[f++ % frames.length]!);
        }
        // End the connection with one of the ways a client can break the protocol.
        const closer = conns % 4;
        if (closer === 0) c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
        else if (closer === 1) c.ws.send('x'.repeat(70_000));
        else if (closer === 2) (c.ws as unknown as { _socket: net.Socket })._socket.write(invalidUtf8Frame());
        else c.ws.close();
        sent++;
        const { code } = await Promise.race([
          c.done,
          new Promise<{ code: number }>((resolve) =>
            setTimeout(() => {
              c.close();
              resolve({ code: -1 });
            }, 5000),
          ),
        ]);
        closes.set(code, (closes.get(code) ?? 0) + 1);
      }
      const codes = [...closes].map(([code, n]) => `${n}× ${code}`).join(', ');
      return `${sent} frames on ${conns} connections; closes ${codes}`;
    };
  },
};
