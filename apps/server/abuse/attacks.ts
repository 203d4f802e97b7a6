/**
 * The attacks of issue 9, each from its own loopback address (127.0.0.x) so that the
 * per-address limits one attack runs into never spill over to the honest pair (127.0.0.1)
 * or to the next attack. Each `prepare` sets up what the attack needs (users, backlogs)
 * outside the measured window and returns the attack itself, which runs until `until`.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { type Account, Conn, register, type Server, session, sleep } from './harness.js';

export interface Scale {
  /** Seconds each attack runs (the honest pair's measuring window). */
  seconds: number;
  fuzzFrames: number;
  peers: number;
  backlog: number;
  conns: number;
  /** Server settings that differ from the defaults (only to fit the short window). */
  serverEnv: Record<string, string>;
}
export const FULL: Scale = {
  seconds: 10,
  fuzzFrames: 100_000,
  peers: 300,
  backlog: 2000,
  conns: 2000,
  serverEnv: {},
};
/** In 2 s windows the default 5 s body timeout would never fire: 1 s shows it working. */
export const SHORT: Scale = {
  seconds: 2,
  fuzzFrames: 3000,
  peers: 30,
  backlog: 200,
  conns: 60,
  serverEnv: { PIGEON_API_TIMEOUT: '1' },
};

interface AttackContext {
  server: Server;
  scale: Scale;
  /** The honest pair's accounts (a victim for typing, a target for impersonation). */
  honest: [Account, Account];
}

export interface Attack {
  name: string;
  /** What issue 9 measured without the defences. */
  finding: string;
  prepare(ctx: AttackContext): Promise<(until: number) => Promise<string>>;
}

const BIG = 'x'.repeat(4000);

/** Sends `n` messages from `conn` (pipelined) and resolves when every `sent` is back. */
async function sendMany(conn: Conn, to: (i: number) => string, n: number, body: string): Promise<void> {
  let sent = 0;
  const done = new Promise<void>((resolve) => {
    const prev = conn.onFrame;
    conn.onFrame = (f) => {
      prev(f);
      if (f.t === 'sent' && ++sent === n) resolve();
    };
  });
  for (let i = 0; i < n; i++) conn.send({ t: 'send', id: `s${i}_${Date.now()}`, to: to(i), body });
  await done;
}

async function users(url: string, n: number, prefix: string): Promise<Account[]> {
  const out: Account[] = [];
  for (let i = 0; i < n; i += 25) {
    const wave = Array.from({ length: Math.min(25, n - i) }, () => register(url, prefix));
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

const pipelinedReads: Attack = {
  name: 'pipelined reads',
  finding: '1,000 conversations frames blocked the loop 12.4 s',
  async prepare({ server, scale }) {
    const m = await register(server.url, 'mr');
    const peers = await users(server.url, scale.peers, 'pr');
    const conn = await session(server, m.token, '127.0.0.11');
    if (!conn) throw new Error('attacker could not connect');
    await sendMany(conn, (i) => peers[i]!.id, peers.length, 'hi');
    return async (until) => {
      let answered = 0;
      let refused = 0;
      while (Date.now() < until && !conn.closed) {
        let got = 0;
        const round = new Promise<void>((resolve) => {
          conn.onFrame = (f) => {
            if (f.t === 'conversations') answered++;
            else if (f.t === 'error' && f.code === 'rate_limited') refused++;
            else return;
            if (++got === 1000) resolve();
          };
          void conn.done.then(() => resolve());
        });
        for (let i = 0; i < 1000; i++) conn.send({ t: 'conversations', rid: `c${i}` });
        await Promise.race([round, sleep(Math.max(0, until - Date.now()))]);
      }
      conn.close();
      return `${answered} answered, ${refused} refused (rate_limited)`;
    };
  },
};

const replayLoop: Attack = {
  name: 'replay loop',
  finding: '2,000 big un-acked entries replayed in a loop: 11.9 GB in 30 s, p99 340 ms, RSS 725 MB',
  async prepare({ server, scale }) {
    const m = await register(server.url, 'mp');
    const s = await register(server.url, 'sp');
    const sc = await session(server, s.token, '127.0.0.12');
    if (!sc) throw new Error('sender could not connect');
    await sendMany(sc, () => m.id, scale.backlog, BIG);
    sc.close();
    return async (until) => {
      let replays = 0;
      let refused = 0;
      const loop = async () => {
        while (Date.now() < until) {
          const c = await session(server, m.token, '127.0.0.12');
          if (c) {
            replays++;
            c.close();
          } else refused++;
        }
      };
      await Promise.all([loop(), loop(), loop(), loop()]);
      return `${replays} full replays, ${refused} refused (4029)`;
    };
  },
};

const connectionFlood: Attack = {
  name: 'connection flood',
  finding: '2,000 connections of one user accepted; 100 non-reading sockets added ~370 MB',
  async prepare({ server, scale }) {
    const m = await register(server.url, 'mc');
    const s = await register(server.url, 'sc');
    const sc = await session(server, s.token, '127.0.0.13');
    if (!sc) throw new Error('sender could not connect');
    return async (until) => {
      const open: Conn[] = [];
      let refused = 0;
      for (let i = 0; i < scale.conns && Date.now() < until; i += 100) {
        const wave = await Promise.all(
          Array.from({ length: Math.min(100, scale.conns - i) }, () =>
            session(server, m.token, '127.0.0.13'),
          ),
        );
        for (const c of wave) {
          if (!c) {
            refused++;
            continue;
          }
          // Stop reading: everything for this user now piles up on the server.
          (c.ws as unknown as { _socket: net.Socket })._socket.pause();
          open.push(c);
        }
      }
      let stored = 0;
      while (Date.now() < until && !sc.closed) {
        await sendMany(sc, () => m.id, 40, BIG);
        stored += 40;
        await sleep(200);
      }
      const closedByServer = open.filter((c) => c.closed).length;
      for (const c of open) c.close();
      sc.close();
      return `${open.length} accepted, ${refused} refused, ${stored} msgs to them, ${closedByServer} closed 4008`;
    };
  },
};

const typingFlood: Attack = {
  name: 'typing flood',
  finding: '200,000 typing frames/s forwarded; the victim was closed 4008',
  async prepare({ server, honest }) {
    const m = await register(server.url, 'mt');
    const conn = await session(server, m.token, '127.0.0.14');
    if (!conn) throw new Error('attacker could not connect');
    const victim = honest[1].id;
    return async (until) => {
      let sent = 0;
      const frame = JSON.stringify({ t: 'typing', to: victim });
      while (Date.now() < until && !conn.closed) {
        // As fast as the server reads them: a batch whenever our side's buffer has room
        // (queueing millions of frames in this process would only measure this process).
        if (conn.ws.bufferedAmount < 1024 * 1024) {
          for (let i = 0; i < 2000; i++) conn.ws.send(frame);
          sent += 2000;
          await new Promise((resolve) => setImmediate(resolve));
        } else await sleep(5);
      }
      conn.close();
      return `${sent} typing frames written (as fast as the server read them)`;
    };
  },
};

const helloFlood: Attack = {
  name: 'hello flood',
  finding: 'hellos were not rate-limited per address',
  async prepare({ server }) {
    return async (until) => {
      const codes = new Map<number, number>();
      const one = async () => {
        while (Date.now() < until) {
          const c = new Conn(`${server.wsUrl}/ws`, '127.0.0.15');
          if (await c.opened()) c.send({ t: 'hello', v: 1, token: 'garbage' });
          const { code } = await c.done;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 20 }, one));
      return [...codes].map(([code, n]) => `${n}× ${code}`).join(', ');
    };
  },
};

const slowHttp: Attack = {
  name: 'slow http bodies',
  finding: 'slow request bodies were held 322 s',
  async prepare({ server }) {
    const port = Number(new URL(server.url).port);
    return async (until) => {
      let closed = 0;
      const socks = Array.from({ length: 200 }, () => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.16' });
        s.on('error', () => {});
        s.on('close', () => closed++);
        // Read what comes back: a socket nobody reads never sees the server hang up.
        s.resume();
        s.write(
          'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
        );
        return s;
      });
      await sleep(Math.max(0, until - Date.now()));
      for (const s of socks) s.destroy();
      return `${closed} of 200 trickling requests cut off by the server`;
    };
  },
};

const legacyImpersonation: Attack = {
  name: 'legacy impersonation',
  finding: '/legacy opened any account, passwords included',
  async prepare({ server, honest }) {
    return async (until) => {
      const statuses = new Map<number, number>();
      while (Date.now() < until) {
        const status = await new Promise<number>((resolve) => {
          const ws = new WebSocket(`${server.wsUrl}/legacy?user=${honest[0].id}`, {
            localAddress: '127.0.0.1',
          });
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.on('open', () => {
            ws.terminate();
            resolve(101);
          });
          ws.on('error', () => resolve(0));
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      return `upgrades for a password account answered ${[...statuses].map(([c, n]) => `${n}× ${c}`).join(', ')}`;
    };
  },
};

export { fuzz } from './fuzz.js';

export const ATTACKS: Attack[] = [
  pipelinedReads,
  replayLoop,
  connectionFlood,
  typingFlood,
  helloFlood,
  slowHttp,
  legacyImpersonation,
];
