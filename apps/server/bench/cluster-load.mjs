// The load generator of the cluster rows (cluster.mjs): pairs of sender → receiver where
// each socket goes to the node its user is placed on (so with 2+ nodes every message
// crosses nodes). Usage: node cluster-load.mjs CONFIG.json — prints one JSON line.
//
// `mode: 'window'` keeps `window` sends in flight per pair (until their `sent`) for
// warmupMs + measureMs; `mode: 'paced'` sends `rate` a second in total, open loop. Frames
// are built and parsed with plain JSON so the generator stays cheap next to the cluster.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sockets = new Set();
const errors = {};
let stopping = false;

function finish(result, code = 0) {
  stopping = true;
  for (const ws of sockets) ws.terminate();
  process.stdout.write(`${JSON.stringify({ ...result, errors })}\n`, () => process.exit(code));
}
setTimeout(
  () => finish({ ok: false, error: `passed its deadline of ${cfg.deadlineMs} ms` }, 2),
  cfg.deadlineMs,
);

/** utime + stime in seconds of a process; with `tree`, of it and its children (PostgreSQL's backends). */
function cpuSeconds(pid, tree = false) {
  const read = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / cfg.clkTck };
    } catch {
      return null;
    }
  };
  let total = read(pid)?.cpu ?? 0;
  if (tree) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = read(Number(name));
      if (s && s.ppid === pid) total += s.cpu;
    }
  }
  return total;
}

function cpuOf(pids) {
  return {
    nodes: pids.nodes.reduce((sum, p) => sum + cpuSeconds(p), 0),
    postgres: cpuSeconds(pids.postgres, true),
    redis: cpuSeconds(pids.redis),
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function conn(url, token, { onMsg = () => {}, onSent = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/ws`, { perMessageDeflate: false });
    sockets.add(ws);
    let lastCursor = null;
    let ackTimer = null;
    let ready = false;
    const timer = setTimeout(() => reject(new Error('no synced within 15 s')), 15_000);
    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.t === 'msg') {
        lastCursor = f.cursor;
        // Acks as packages/client does by default: cumulative, at most 100 ms late.
        ackTimer ??= setTimeout(() => {
          ackTimer = null;
          if (ws.readyState === 1) ws.send(`{"t":"ack","cursor":${JSON.stringify(lastCursor)}}`);
        }, 100);
        onMsg(f);
      } else if (f.t === 'sent') onSent(f);
      else if (f.t === 'synced') {
        ready = true;
        clearTimeout(timer);
        resolve(ws);
      } else if (f.t === 'error') errors[f.code] = (errors[f.code] ?? 0) + 1;
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      clearTimeout(ackTimer);
      if (!ready) reject(new Error(`closed ${code} before synced`));
      else if (!stopping) errors[`close_${code}`] = (errors[`close_${code}`] ?? 0) + 1;
    });
    ws.on('error', (e) => {
      if (!ready) reject(e);
    });
  });
}

const PAD = 'x'.repeat(200);
const body = (t) => {
  const head = `${t.toFixed(3)}|`;
  return head + PAD.slice(0, Math.max(0, cfg.bodyLength - head.length));
};

async function main() {
  const pairs = cfg.pairs.map((p, i) => ({ ...p, i, inflight: 0, seq: 0, ws: null }));
  let delivered = 0;
  let measuring = false;
  let running = true;
  const lat = [];
  const sendOne = (p) =>
    p.ws.send(
      `{"t":"send","id":"${cfg.run}p${p.i}m${p.seq++}","to":"${p.receiver.user}","body":"${body(now())}"}`,
    );
  const pump = (p) => {
    while (running && p.inflight < cfg.window) {
      p.inflight++;
      sendOne(p);
    }
  };
  await Promise.all(
    pairs.map((p) =>
      conn(p.receiver.url, p.receiver.token, {
        onMsg: (f) => {
          delivered++;
          if (measuring) lat.push(now() - Number.parseFloat(f.body));
        },
      }),
    ),
  );
  await Promise.all(
    pairs.map(async (p) => {
      p.ws = await conn(p.sender.url, p.sender.token, {
        onSent: () => {
          if (cfg.mode !== 'window') return;
          p.inflight--;
          pump(p);
        },
      });
    }),
  );
  const t0 = now();
  let pacer = null;
  if (cfg.mode === 'window') for (const p of pairs) pump(p);
  else {
    let sent = 0;
    let rr = 0;
    const tick = () => {
      if (!running) return;
      const due = Math.floor(((now() - t0) * cfg.rate) / 1000);
      while (sent < due) {
        sendOne(pairs[rr]);
        rr = (rr + 1) % pairs.length;
        sent++;
      }
      pacer = setTimeout(tick, 1);
    };
    tick();
  }
  await sleep(cfg.warmupMs);
  const d0 = delivered;
  const c0 = cpuOf(cfg.pids);
  const m0 = now();
  measuring = true;
  await sleep(cfg.measureMs);
  measuring = false;
  const m1 = now();
  const c1 = cpuOf(cfg.pids);
  const msgs = delivered - d0;
  running = false;
  if (pacer) clearTimeout(pacer);
  const seconds = (m1 - m0) / 1000;
  const perMsgUs = (a, b) => (msgs > 0 ? ((b - a) * 1e6) / msgs : null);
  lat.sort((a, b) => a - b);
  finish({
    ok: msgs > 0,
    error: msgs > 0 ? undefined : 'nothing delivered in the measured window',
    delivered: msgs,
    seconds,
    perSecond: msgs / seconds,
    cpuUsPerMsg: {
      nodes: perMsgUs(c0.nodes, c1.nodes),
      postgres: perMsgUs(c0.postgres, c1.postgres),
      redis: perMsgUs(c0.redis, c1.redis),
    },
    cpuUtil: {
      nodes: (c1.nodes - c0.nodes) / seconds,
      postgres: (c1.postgres - c0.postgres) / seconds,
      redis: (c1.redis - c0.redis) / seconds,
    },
    latency: {
      samples: lat.length,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: lat.length ? lat[lat.length - 1] : null,
    },
  });
}

main().catch((e) => finish({ ok: false, error: String(e?.message ?? e) }, 1));
