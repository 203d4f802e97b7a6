// The load generator: one scenario per process, started by run.mjs (pinned to its own core).
// Usage: node load.mjs CONFIG.json   — prints one JSON line (the result) on stdout.
//
// Targets: `pigeon` speaks PROTOCOL.md over /ws (hello → welcome → backlog → synced, send →
// sent → msg, cumulative ack); `baseline` speaks the demo's `to|content` over `/?user=ID`;
// `socketio` emits `m` (to, content) through socket.io-client (websocket transport only).
// Frames are built and parsed with plain JSON.stringify/JSON.parse (not the validating
// decoder) so the generator stays cheap next to the server it measures.
//
// Every loop is bounded by a count and by the scenario's deadline (cfg.deadlineMs).
// Over 300 lines as one program: it runs alone in its own pinned process (run.mjs passes a
// file path), so its three protocols and scenarios stay together with no imports to load.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[load ${cfg.scenario}/${cfg.kind}] ${a.join(' ')}\n`);

const sockets = new Set();
const errors = {}; // error code (or close code) -> count
const countError = (code) => {
  errors[code] = (errors[code] ?? 0) + 1;
};

function finish(result, code = 0) {
  for (const ws of sockets) ws.terminate();
  process.stdout.write(`${JSON.stringify({ ...result, errors })}\n`, () => process.exit(code));
}

const deadline = setTimeout(() => {
  finish(
    { ok: false, error: `load scenario ${cfg.scenario} passed its deadline of ${cfg.deadlineMs} ms` },
    2,
  );
}, cfg.deadlineMs);

// ------------------------------------------------------------------ /proc readings of the server
/** utime+stime of a process in seconds (all its threads). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / cfg.clkTck;
}
/** utime+stime of each thread of a process in seconds, by thread id (threads that ended are gone). */
function threadCpuSeconds(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / cfg.clkTck);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}
/**
 * Server CPU per delivered message by thread over a window: the event loop (the thread
 * whose id is the process id), then the other threads busiest first (Pigeon: the SQLite
 * writer, then the reader), then all the rest together (V8's and libuv's helpers).
 */
function cpuByThread(pid, before, after, msgs) {
  if (msgs <= 0) return null;
  const us = (s) => (s * 1e6) / msgs;
  const others = [];
  for (const [tid, s] of after) if (tid !== pid) others.push(s - (before.get(tid) ?? 0));
  others.sort((a, b) => b - a);
  return {
    eventLoop: us((after.get(pid) ?? 0) - (before.get(pid) ?? 0)),
    busiestOther: us(others[0] ?? 0),
    secondOther: us(others[1] ?? 0),
    rest: us(others.slice(2).reduce((a, b) => a + b, 0)),
  };
}
/** Bytes the process caused to be written to storage (/proc/PID/io write_bytes). */
function writeBytes(pid) {
  try {
    const m = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
/** Resident set size of a process in bytes. */
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}
/** Per-CPU jiffies from /proc/stat: busy (not idle, not iowait), steal, total. */
function cpuTimes() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^(cpu\d+) (.*)/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out[m[1]] = { busy: total - f[3] - f[4], steal: f[7], total };
  }
  return out;
}
/** Total µs some task waited for a CPU (or for I/O: `kind` 'io'), from PSI; null without it. */
function pressureUs(kind = 'cpu') {
  try {
    const m = /^some .*total=(\d+)$/m.exec(readFileSync(`/proc/pressure/${kind}`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
const cpuPressureUs = () => pressureUs('cpu');
/** Pressure shares (cpu, io) between two pressureNow() readings `ms` apart. */
const pressureNow = () => ({ cpu: pressureUs('cpu'), io: pressureUs('io') });
const pressureShare = (a, b, ms) => ({
  cpu: a.cpu === null ? null : (b.cpu - a.cpu) / 1000 / ms,
  io: a.io === null ? null : (b.io - a.io) / 1000 / ms,
});
/** Busy and steal share of each CPU between two cpuTimes() readings. */
function cpuShares(a, b) {
  const out = {};
  for (const k of Object.keys(b)) {
    const dt = b[k].total - (a[k]?.total ?? 0) || 1;
    out[k] = { busy: (b[k].busy - a[k].busy) / dt, steal: (b[k].steal - a[k].steal) / dt };
  }
  return out;
}
function selfCpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function latencySummary(samples) {
  const s = Float64Array.from(samples).sort();
  const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    samples: s.length,
    p50Ms: r3(percentile(s, 50)),
    p90Ms: r3(percentile(s, 90)),
    p99Ms: r3(percentile(s, 99)),
    maxMs: r3(s.length ? s[s.length - 1] : null),
  };
}

// ------------------------------------------------------------------ connections
/**
 * A Pigeon connection. Resolves once `synced` arrived. `onMsg(frame)` gets every `msg`;
 * `onSent(frame)` every `sent`. With `autoAck` it acks the way packages/client does (its
 * DEFAULTS ackDelayMs / ackBatch, passed in cfg.ack): the latest cursor, cumulatively, at
 * most `delayMs` after the first unacked entry or at once when `batch` are unacked.
 */
function pigeonConn(user, { onMsg = () => {}, onSent = () => {}, autoAck = true, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${cfg.url}/ws`, { perMessageDeflate: false });
    sockets.add(ws);
    let lastCursor = null;
    let unacked = 0;
    let ackTimer = null;
    let ready = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no synced within ${timeoutMs} ms for ${user.user}`));
    }, timeoutMs);
    const flushAck = () => {
      clearTimeout(ackTimer);
      ackTimer = null;
      unacked = 0;
      if (ws.readyState === 1) ws.send(`{"t":"ack","cursor":${JSON.stringify(lastCursor)}}`);
    };
    ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token: user.token })));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      switch (f.t) {
        case 'msg':
          lastCursor = f.cursor;
          if (autoAck && !cfg.ack.off) {
            if (++unacked >= cfg.ack.batch) flushAck();
            else ackTimer ??= setTimeout(flushAck, cfg.ack.delayMs);
          }
          onMsg(f);
          break;
        case 'sent':
          onSent(f);
          break;
        case 'synced':
          ready = true;
          clearTimeout(timer);
          resolve(ws);
          break;
        case 'error':
          countError(f.code);
          break;
        default:
      }
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      clearTimeout(ackTimer);
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`closed ${code} before synced for ${user.user}`));
      } else if (!stopping) countError(`close_${code}`);
    });
    ws.on('error', (e) => {
      if (!ready) {
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

/** A baseline connection (`?user=ID`). Resolves on open. */
function baselineConn(user, { onMsg = () => {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${cfg.url}/?user=${encodeURIComponent(user.user)}`, {
      perMessageDeflate: false,
    });
    sockets.add(ws);
    let ready = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no open within ${timeoutMs} ms for ${user.user}`));
    }, timeoutMs);
    ws.on('open', () => {
      ready = true;
      clearTimeout(timer);
      resolve(ws);
    });
    ws.on('message', (data) => onMsg(data.toString()));
    ws.on('close', (code) => {
      sockets.delete(ws);
      if (ready && !stopping) countError(`close_${code}`);
    });
    ws.on('error', (e) => {
      if (!ready) {
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

/** A Socket.IO connection (query `user`), websocket transport only. Resolves on connect. */
function socketioConn(user, { onMsg = () => {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url.replace(/^ws/, 'http'), {
      transports: ['websocket'],
      query: { user: user.user },
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    // finish() terminates what is in `sockets`: give it the same method as a ws socket.
    const handle = { terminate: () => socket.disconnect(), socket };
    sockets.add(handle);
    let ready = false;
    socket.on('connect', () => {
      ready = true;
      resolve(socket);
    });
    socket.on('m', (content) => onMsg(content));
    socket.on('connect_error', (e) => {
      if (!ready) reject(e);
    });
    socket.on('disconnect', (reason) => {
      sockets.delete(handle);
      if (ready && !stopping) countError(`disconnect_${reason}`);
    });
  });
}

let stopping = false;
const PAD = 'x'.repeat(200);
/** A ~100-character body that starts with the send time (ms, performance.now()). */
const makeBody = (t) => {
  const head = `${t.toFixed(3)}|`;
  return head + PAD.slice(0, Math.max(0, cfg.bodyLength - head.length));
};

// ------------------------------------------------------------------ scenarios
/**
 * Pairs of sender → receiver. `mode: 'window'` keeps `window` messages in flight per pair
 * (Pigeon: from send until its `sent`; baseline: until the receiver got it) for
 * warmupMs + measureMs; `mode: 'paced'` sends `rate` messages a second in total,
 * round-robin over the pairs, open loop.
 */
async function pairsScenario() {
  const isPigeon = cfg.kind === 'pigeon';
  const relayConn = cfg.kind === 'socketio' ? socketioConn : baselineConn;
  const pairs = cfg.pairs.map((p, i) => ({
    ...p,
    i,
    inflight: 0,
    seq: 0,
    sws: null,
    tag: `${cfg.run}p${i}`,
  }));
  let delivered = 0;
  let measuring = false;
  let running = true;
  const lat = [];

  const onArrive = (body) => {
    delivered++;
    if (measuring) lat.push(now() - Number.parseFloat(body));
  };
  const sendOne = (p) => {
    const body = makeBody(now());
    if (isPigeon)
      p.sws.send(`{"t":"send","id":"${p.tag}m${p.seq++}","to":"${p.receiver.user}","body":"${body}"}`);
    else if (cfg.kind === 'socketio') p.sws.emit('m', p.receiver.user, body);
    else p.sws.send(`${p.receiver.user}|${body}`);
  };
  const pump = (p) => {
    while (running && p.inflight < cfg.window) {
      p.inflight++;
      sendOne(p);
    }
  };

  // Connect receivers first, then senders.
  await Promise.all(
    pairs.map(async (p) => {
      if (isPigeon) {
        await pigeonConn(p.receiver, { onMsg: (f) => onArrive(f.body) });
      } else {
        await relayConn(p.receiver, {
          onMsg: (text) => {
            onArrive(text);
            if (cfg.mode === 'window') {
              p.inflight--;
              pump(p);
            }
          },
        });
      }
    }),
  );
  await Promise.all(
    pairs.map(async (p) => {
      if (isPigeon) {
        p.sws = await pigeonConn(p.sender, {
          onSent: () => {
            if (cfg.mode === 'window') {
              p.inflight--;
              pump(p);
            }
          },
        });
      } else {
        p.sws = await relayConn(p.sender);
      }
    }),
  );

  let pacer = null;
  const tStart = now();
  if (cfg.mode === 'window') {
    for (const p of pairs) pump(p);
  } else {
    let sent = 0;
    let rr = 0;
    const maxTotal = Math.ceil((cfg.rate * (cfg.warmupMs + cfg.measureMs)) / 1000) + 10;
    const tick = () => {
      if (!running) return;
      const due = Math.min(maxTotal, Math.floor(((now() - tStart) * cfg.rate) / 1000));
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
  const c0 = cpuSeconds(cfg.serverPid);
  const th0 = threadCpuSeconds(cfg.serverPid);
  const w0 = writeBytes(cfg.serverPid);
  const l0 = selfCpuSeconds();
  const m0 = cpuTimes();
  const psi0 = cpuPressureUs();
  const io0 = pressureUs('io');
  const t0 = now();
  measuring = true;
  await sleep(cfg.measureMs);
  measuring = false;
  const t1 = now();
  const c1 = cpuSeconds(cfg.serverPid);
  const th1 = threadCpuSeconds(cfg.serverPid);
  const w1 = writeBytes(cfg.serverPid);
  const l1 = selfCpuSeconds();
  const m1 = cpuTimes();
  const psi1 = cpuPressureUs();
  const io1 = pressureUs('io');
  const d1 = delivered;
  running = false;
  stopping = true;
  if (pacer) clearTimeout(pacer);

  const seconds = (t1 - t0) / 1000;
  const msgs = d1 - d0;
  return {
    ok: msgs > 0,
    error: msgs > 0 ? undefined : 'nothing delivered in the measured window',
    delivered: msgs,
    seconds,
    perSecond: msgs / seconds,
    serverCpuSeconds: c1 - c0,
    serverCpuUtil: (c1 - c0) / seconds,
    serverCpuUsPerMsg: msgs > 0 ? ((c1 - c0) * 1e6) / msgs : null,
    serverCpuUsPerMsgByThread: cpuByThread(cfg.serverPid, th0, th1, msgs),
    loadCpuUtil: (l1 - l0) / seconds,
    // Storage writes of the server per delivered message (SQLite WAL and checkpoints).
    diskBytesPerMsg: w0 !== null && w1 !== null && msgs > 0 ? (w1 - w0) / msgs : null,
    // Whole-machine view of the window: what else ran on the two cores (the machine is shared).
    machineCpu: cpuShares(m0, m1),
    // Share of the window in which some runnable task waited for a CPU (PSI): contention.
    cpuPressure: psi0 !== null && psi1 !== null ? (psi1 - psi0) / 1e6 / seconds : null,
    ioPressure: io0 !== null && io1 !== null ? (io1 - io0) / 1e6 / seconds : null,
    latency: latencySummary(lat),
  };
}

const MSG_PREFIX = Buffer.from('{"t":"msg"');

/**
 * Offline flush: `sender` stores `count` messages for `receiver` (offline), then
 * `receiver` connects `repeats` times without acking; each time, hello → synced is timed.
 */
async function flushScenario() {
  let sentCount = 0;
  let done;
  const allSent = new Promise((r) => {
    done = r;
  });
  let seq = 0;
  let inflight = 0;
  let sws = null;
  const pump = () => {
    while (inflight < cfg.window && seq < cfg.count) {
      inflight++;
      const body = makeBody(now());
      sws.send(`{"t":"send","id":"${cfg.run}f${seq++}","to":"${cfg.receiver.user}","body":"${body}"}`);
    }
  };
  sws = await pigeonConn(cfg.sender, {
    onSent: () => {
      sentCount++;
      inflight--;
      if (sentCount === cfg.count) done();
      else pump();
    },
  });
  const tf0 = now();
  pump();
  await allSent;
  const fillMs = now() - tf0;
  stopping = true;
  sws.close();
  await sleep(cfg.settleMs);

  const runs = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const res = await new Promise((resolve, reject) => {
      const ws = new WebSocket(`${cfg.url}/ws`, { perMessageDeflate: false });
      sockets.add(ws);
      let t0 = 0;
      let tWelcome = null;
      let tFirst = null;
      let n = 0;
      let c0 = 0;
      let l0 = 0;
      let p0 = { cpu: null, io: null };
      ws.on('open', () => {
        p0 = pressureNow();
        c0 = cpuSeconds(cfg.serverPid);
        l0 = selfCpuSeconds();
        t0 = now();
        ws.send(JSON.stringify({ t: 'hello', v: 1, token: cfg.receiver.token }));
      });
      ws.on('message', (data) => {
        // The client is the measuring instrument here: count msg frames by their prefix
        // (the server writes `t` first) instead of parsing 10,000 of them.
        if (data.length > MSG_PREFIX.length && data.subarray(0, MSG_PREFIX.length).equals(MSG_PREFIX)) {
          if (n === 0) tFirst = now() - t0;
          n++;
          return;
        }
        const f = JSON.parse(data.toString());
        if (f.t === 'welcome') tWelcome = now() - t0;
        else if (f.t === 'msg') {
          if (n === 0) tFirst = now() - t0;
          n++;
        } else if (f.t === 'synced') {
          const ms = now() - t0;
          // CPU well below the wall time means the server waited (on timers or the client).
          const serverCpuMs = (cpuSeconds(cfg.serverPid) - c0) * 1000;
          const loadCpuMs = (selfCpuSeconds() - l0) * 1000;
          // CPU and I/O pressure (PSI) of the machine meanwhile: contention from other work.
          const pressure = pressureShare(p0, pressureNow(), ms);
          ws.terminate();
          resolve({
            ms,
            welcomeMs: tWelcome,
            firstMsgMs: tFirst,
            messages: n,
            gap: f.gap,
            serverCpuMs,
            loadCpuMs,
            pressure,
          });
        } else if (f.t === 'error') countError(f.code);
      });
      ws.on('close', (code) => reject(new Error(`flush connection closed ${code} before synced`)));
      ws.on('error', reject);
    });
    runs.push(res);
    await sleep(cfg.settleMs);
  }
  const ms = runs.map((r) => r.ms);
  const sorted = [...ms].sort((a, b) => a - b);
  const complete = runs.every((r) => r.messages === cfg.count);
  return {
    ok: complete,
    error: complete ? undefined : `a flush delivered ${runs.map((r) => r.messages)} of ${cfg.count}`,
    count: cfg.count,
    fillMs,
    fillPerSecond: (cfg.count * 1000) / fillMs,
    firstMs: ms[0],
    medianMs: sorted[Math.floor(sorted.length / 2)],
    runs,
  };
}

/** Max open files of this process (to warn before running into it). */
function maxOpenFiles() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/**
 * Idle connections: open `warm` connections (kept open, to warm up the server's code
 * paths and pools), read the server's RSS, open `conns` more (each authenticated: Pigeon
 * up to `synced`), wait `settleMs`, read RSS again. With `measure: false` it only
 * connects every user once (used to create JWT users in the seed database).
 */
async function idleScenario() {
  const isPigeon = cfg.kind === 'pigeon';
  const total = cfg.warm + cfg.conns;
  const fdLimit = maxOpenFiles();
  if (fdLimit < total + 100) {
    return { ok: false, error: `ulimit -n is ${fdLimit}; ${total + 100} needed (raise it with ulimit -n)` };
  }
  const userAt = (i) => cfg.users[i % cfg.users.length];
  let failures = 0;
  let firstFailure = null;
  const openRange = async (from, to) => {
    let next = from;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        try {
          if (isPigeon) await pigeonConn(userAt(i), { autoAck: false });
          else await baselineConn(userAt(i));
        } catch (e) {
          failures++;
          firstFailure ??= String(e.message ?? e);
        }
      }
    };
    await Promise.all(Array.from({ length: cfg.concurrency }, worker));
  };

  // With the server's inspector (memory runs start it with --inspect), every reading follows
  // a full GC, so garbage left by the handshakes does not count as connection memory, and
  // process.memoryUsage() splits the figure into JS heap and the rest.
  const insp = cfg.inspectorUrl ? await inspector(cfg.inspectorUrl) : null;
  const reading = async (gc) => {
    if (!cfg.measure) return null;
    let mem = null;
    if (insp) {
      if (gc) {
        await insp.call('HeapProfiler.collectGarbage');
        await sleep(300);
      }
      const r = await insp.call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      });
      mem = JSON.parse(r.result.result.value);
    }
    return { rss: rssBytes(cfg.serverPid), heapUsed: mem?.heapUsed ?? null, external: mem?.external ?? null };
  };

  const tc0 = now();
  await openRange(0, cfg.warm);
  await sleep(cfg.settleMs);
  const before = await reading(true);
  const failed0 = failures;
  await openRange(cfg.warm, total);
  const connectMs = now() - tc0;
  const opened = cfg.conns - (failures - failed0);
  await sleep(cfg.settleMs);
  const afterNoGc = await reading(false);
  const after = await reading(true);
  stopping = true;
  insp?.close();
  const ok = failures === 0;
  const per = (a, b, k) => (a && b && a[k] !== null && opened > 0 ? (b[k] - a[k]) / opened : null);
  return {
    ok,
    error: ok ? undefined : `${failures} connections failed, first: ${firstFailure}`,
    conns: cfg.conns,
    opened,
    users: Math.min(cfg.users.length, total),
    connectMs,
    forcedGc: insp !== null,
    before,
    afterNoGc,
    after,
    bytesPerConn: per(before, after, 'rss'),
    bytesPerConnNoGc: per(before, afterNoGc, 'rss'),
    heapBytesPerConn: per(before, after, 'heapUsed'),
    externalBytesPerConn: per(before, after, 'external'),
  };
}

/** A minimal Chrome DevTools Protocol client for the server's inspector. */
async function inspector(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((res, rej) => {
    ws.on('open', res);
    ws.on('error', rej);
  });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    const done = pending.get(m.id);
    if (done) {
      pending.delete(m.id);
      done(m);
    }
  });
  return {
    call: (method, params = {}) =>
      new Promise((res) => {
        const i = ++id;
        pending.set(i, res);
        ws.send(JSON.stringify({ id: i, method, params }));
      }),
    close: () => ws.terminate(),
  };
}

// ------------------------------------------------------------------ main
const scenarios = { pairs: pairsScenario, flush: flushScenario, idle: idleScenario };
try {
  const result = await scenarios[cfg.scenario]();
  clearTimeout(deadline);
  finish(result, result.ok ? 0 : 1);
} catch (e) {
  log('failed:', e?.stack ?? e);
  finish({ ok: false, error: String(e?.message ?? e) }, 1);
}
