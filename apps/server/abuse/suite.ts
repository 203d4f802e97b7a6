/**
 * Runs every attack against one real server while an honest pair chats, and reports per
 * attack what the pair saw (delivery, latency) and what the server paid (RSS, event-loop
 * lag). Pass/fail is about correctness only: the pair loses or doubles nothing, keeps its
 * connections, and the server stays up. The speed goals (p99 < 50 ms, RSS < 300 MB) are
 * reported against, never asserted: they depend on the machine and its neighbours.
 */
import { ATTACKS, type Attack, fuzz, type Scale } from './attacks.js';
import { healthy, loopLag, RssSampler, type Server, sleep, startServer } from './harness.js';
import { HonestPair } from './honest-pair.js';

export interface Row {
  attack: string;
  finding: string;
  stats: string;
  sent: number;
  lost: number;
  doubled: number;
  dropped: string | null;
  p50: number;
  p99: number;
  max: number;
  rssMb: number;
  lagP99: number;
  lagMax: number;
  serverUp: boolean;
}

const GOALS = { p99Ms: 50, rssMb: 300 };

export async function runSuite(scale: Scale, say: (line: string) => void = () => {}): Promise<Row[]> {
  const server: Server = await startServer(scale.serverEnv);
  const rows: Row[] = [];
  try {
    const pair = await HonestPair.start(server);
    const honest = pair.accountsOf();
    for (const attack of [...ATTACKS, fuzz] as Attack[]) {
      say(`preparing: ${attack.name}`);
      const run = await attack.prepare({ server, scale, honest });
      await loopLag(server);
      const rss = new RssSampler(server.child.proc.pid!);
      pair.begin();
      const until = Date.now() + scale.seconds * 1000;
      const stats = await run(until);
      // The pair chats for the whole window even when an attack is over sooner (the fuzzer
      // counts frames, not seconds), so every row has enough honest messages to say something.
      if (Date.now() < until) await sleep(until - Date.now());
      const report = await pair.end();
      const lag = await loopLag(server).catch(() => ({ p99: NaN, max: NaN }));
      const row: Row = {
        attack: attack.name,
        finding: attack.finding,
        stats,
        ...report,
        rssMb: rss.stop() / 1024 / 1024,
        lagP99: lag.p99,
        lagMax: lag.max,
        serverUp: await healthy(server),
      };
      rows.push(row);
      say(formatRow(row));
      if (!row.serverUp) break;
    }
    pair.close();
  } finally {
    await server.stop();
  }
  return rows;
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');

export function formatRow(r: Row): string {
  return `${r.attack}: ${r.stats} | honest ${r.sent} sent, ${r.lost} lost, ${r.doubled} doubled${
    r.dropped ? `, ${r.dropped}` : ''
  } | p50 ${ms(r.p50)} p99 ${ms(r.p99)} max ${ms(r.max)} ms | RSS ${r.rssMb.toFixed(0)} MB | loop lag p99 ${ms(
    r.lagP99,
  )} max ${ms(r.lagMax)} ms | server ${r.serverUp ? 'up' : 'DOWN'}`;
}

/** The README table. */
export function table(rows: Row[]): string {
  const head =
    '| attack | what it did | honest p50 / p99 / max (ms) | lost / doubled | server RSS peak | loop lag p99 / max (ms) | goals |\n|---|---|--:|--:|--:|--:|---|';
  const lines = rows.map((r) => {
    const met = r.p99 < GOALS.p99Ms && r.rssMb < GOALS.rssMb;
    const goal = met
      ? 'met'
      : `missed${r.p99 >= GOALS.p99Ms ? ` (p99 +${(r.p99 - GOALS.p99Ms).toFixed(0)} ms)` : ''}${
          r.rssMb >= GOALS.rssMb ? ` (RSS +${(r.rssMb - GOALS.rssMb).toFixed(0)} MB)` : ''
        }`;
    return `| ${r.attack} | ${r.stats} | ${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)} | ${r.lost} / ${r.doubled} | ${r.rssMb.toFixed(
      0,
    )} MB | ${ms(r.lagP99)} / ${ms(r.lagMax)} | ${goal} |`;
  });
  return [head, ...lines].join('\n');
}

/** What makes a run fail: anything but speed. */
export function failures(rows: Row[], expected: number): string[] {
  const out: string[] = [];
  if (rows.length < expected) out.push(`only ${rows.length} of ${expected} attacks ran`);
  for (const r of rows) {
    if (r.lost > 0) out.push(`${r.attack}: the honest pair lost ${r.lost} messages`);
    if (r.doubled > 0) out.push(`${r.attack}: the honest pair got ${r.doubled} messages twice`);
    if (r.dropped) out.push(`${r.attack}: ${r.dropped}`);
    if (!r.serverUp) out.push(`${r.attack}: the server is down`);
    if (r.sent === 0) out.push(`${r.attack}: the honest pair sent nothing`);
  }
  return out;
}

export const ATTACK_COUNT = ATTACKS.length + 1;
