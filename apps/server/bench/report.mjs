// The table `npm run bench` prints (run.mjs measures, this formats): one row per figure, a
// column per target, Pigeon's ratio to each peer, issue 14's goals and whether they are met.

/** Every target, in table order (run.mjs measures those its --targets name). */
export const ALL_KINDS = ['pigeon', 'baseline', 'socketio'];

// Issue 14's goals: ≥ 0.6× the bare relay's throughput at ≤ 12 µs of server CPU per
// delivered message, p99 ≤ 1 ms at 1,000 msg/s (also with the disk busy), and no regression
// of the offline flush and the idle-connection memory.
export const GOALS = {
  throughputRatio: 0.6,
  cpuUsPerMsg: 12,
  p99Ms: 1,
  flushMs: 200,
  bytesPerConn: 6 * 1024,
};

export const fmt = (x, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The table: one row per figure, a column per target, and Pigeon's ratio to each peer.
 * `get` reads a figure from a measurement's result; `only` limits a row to some targets.
 * `results`: run.mjs's figures, `{ pigeon: { throughput, … }, baseline: {…}, socketio: {…} }`.
 */
export function buildRows(results) {
  const rows = [];
  // Rows about the conditions of a run (CPU shares, pressure) get no ratio: it means nothing.
  const CONTEXT_UNITS = new Set(['% of a core', '% of time']);
  const failed = (o) => (o && !o.ok ? `failed: ${o.error}` : null);
  const atLeast = (goal, v, unit) =>
    v >= goal ? 'met' : `missed by ${fmt(goal - v, 2)}${unit} (${fmt(((goal - v) / goal) * 100, 0)} %)`;
  const atMost = (goal, v, unit, d = 2) =>
    v <= goal ? 'met' : `missed by ${fmt(v - goal, d)} ${unit} (${fmt(((v - goal) / goal) * 100, 0)} %)`;
  const row = ({
    metric,
    unit,
    key,
    get,
    digits = 0,
    goal = '',
    check = null,
    only = ALL_KINDS,
    compare = true,
  }) => {
    const values = {};
    const cells = [`${metric} (${unit})`];
    for (const kind of ALL_KINDS) {
      const o = results[kind][key];
      const v = only.includes(kind) && o?.ok ? get(o) : null;
      values[kind] = v ?? null;
      cells.push(
        !only.includes(kind)
          ? 'n/a'
          : v === null || v === undefined
            ? failed(o)
              ? 'failed'
              : '—'
            : fmt(v, digits),
      );
    }
    const ratio = (peer) =>
      compare &&
      values.pigeon !== null &&
      values[peer] !== null &&
      values[peer] !== 0 &&
      !CONTEXT_UNITS.has(unit)
        ? values.pigeon / values[peer]
        : null;
    const ratios = { baseline: ratio('baseline'), socketio: ratio('socketio') };
    let verdict = '—';
    if (check && values.pigeon !== null) verdict = check(values.pigeon, ratios.baseline);
    else if (check) verdict = 'not measured';
    cells.push(
      ratios.baseline === null ? '—' : `${fmt(ratios.baseline, 2)}×`,
      ratios.socketio === null ? '—' : `${fmt(ratios.socketio, 2)}×`,
      goal,
      verdict,
    );
    rows.push({ metric, unit, values, ratios, goal, verdict, cells });
  };
  const others = (o) => Math.max(0, (o.machineCpu?.cpu0?.busy ?? 0) - o.serverCpuUtil) * 100;
  const psi = (o) => (o.cpuPressure === null ? null : o.cpuPressure * 100);
  const iopsi = (o) => (o.ioPressure === null || o.ioPressure === undefined ? null : o.ioPressure * 100);

  row({
    metric: 'delivered messages/s, 50 pairs × 10 in flight, server pinned to one core',
    unit: 'msg/s',
    key: 'throughput',
    get: (o) => o.perSecond,
    goal: `≥ ${GOALS.throughputRatio}× bare ws`,
    check: (_, ratio) => (ratio === null ? 'no baseline' : atLeast(GOALS.throughputRatio, ratio, '×')),
  });
  row({
    metric: 'server CPU per delivered message',
    unit: 'µs',
    key: 'throughput',
    get: (o) => o.serverCpuUsPerMsg,
    digits: 1,
    goal: `≤ ${GOALS.cpuUsPerMsg} µs`,
    check: (v) => atMost(GOALS.cpuUsPerMsg, v, 'µs', 1),
  });
  for (const [part, label] of [
    ['eventLoop', 'of which the event loop thread'],
    ['busiestOther', 'the busiest other thread (Pigeon: the SQLite writer)'],
    ['secondOther', 'the next busiest (Pigeon: the SQLite reader)'],
    ['rest', "all other threads together (V8's and libuv's helpers)"],
  ]) {
    row({
      metric: `  ${label}`,
      unit: 'µs',
      key: 'throughput',
      get: (o) => o.serverCpuUsPerMsgByThread?.[part] ?? null,
      digits: 1,
      // The relays do all their work on the event loop: a ratio of their helpers' crumbs says nothing.
      compare: part === 'eventLoop',
    });
  }
  row({
    metric: 'server CPU busy during that run',
    unit: '% of a core',
    key: 'throughput',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({
    metric: 'load generator CPU busy during that run',
    unit: '% of a core',
    key: 'throughput',
    get: (o) => o.loadCpuUtil * 100,
  });
  row({
    metric: 'other work on the server core during that run',
    unit: '% of a core',
    key: 'throughput',
    get: others,
  });
  row({ metric: 'CPU pressure (PSI some) during that run', unit: '% of time', key: 'throughput', get: psi });
  row({
    metric: 'bytes written to storage per delivered message',
    unit: 'B',
    key: 'throughput',
    get: (o) => o.diskBytesPerMsg,
  });
  row({
    metric: 'one-way latency p50 under full throughput load',
    unit: 'ms',
    key: 'throughput',
    get: (o) => o.latency.p50Ms,
    digits: 2,
  });
  row({
    metric: 'delivered messages/s, server unpinned (2 cores), load on one',
    unit: 'msg/s',
    key: 'unpinned',
    get: (o) => o.perSecond,
  });
  row({
    metric: 'server CPU per delivered message, unpinned',
    unit: 'µs',
    key: 'unpinned',
    get: (o) => o.serverCpuUsPerMsg,
    digits: 1,
  });
  row({
    metric: 'server CPU busy, unpinned',
    unit: '% of a core',
    key: 'unpinned',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({
    metric: 'one-way latency p50 at 1,000 msg/s',
    unit: 'ms',
    key: 'latency',
    get: (o) => o.latency.p50Ms,
    digits: 3,
  });
  row({
    metric: 'one-way latency p99 at 1,000 msg/s',
    unit: 'ms',
    key: 'latency',
    get: (o) => o.latency.p99Ms,
    digits: 3,
    goal: `≤ ${GOALS.p99Ms} ms`,
    check: (v) => atMost(GOALS.p99Ms, v, 'ms', 3),
  });
  row({ metric: '  max at 1,000 msg/s', unit: 'ms', key: 'latency', get: (o) => o.latency.maxMs, digits: 3 });
  row({
    metric: 'server CPU busy at 1,000 msg/s',
    unit: '% of a core',
    key: 'latency',
    get: (o) => o.serverCpuUtil * 100,
  });
  row({ metric: 'CPU pressure (PSI some) during that run', unit: '% of time', key: 'latency', get: psi });
  row({ metric: 'I/O pressure (PSI some) during that run', unit: '% of time', key: 'latency', get: iopsi });
  row({
    metric: 'one-way latency p99 at 1,000 msg/s, background fsync writer',
    unit: 'ms',
    key: 'disk',
    get: (o) => o.latency.p99Ms,
    digits: 3,
    goal: `≤ ${GOALS.p99Ms} ms`,
    check: (v) => atMost(GOALS.p99Ms, v, 'ms', 3),
    only: ['pigeon'],
  });
  row({
    metric: '  p50 / max of that run: p50',
    unit: 'ms',
    key: 'disk',
    get: (o) => o.latency.p50Ms,
    digits: 3,
    only: ['pigeon'],
  });
  row({ metric: '  max', unit: 'ms', key: 'disk', get: (o) => o.latency.maxMs, digits: 3, only: ['pigeon'] });
  row({
    metric: '  I/O pressure (PSI some) during that run',
    unit: '% of time',
    key: 'disk',
    get: iopsi,
    only: ['pigeon'],
  });
  row({
    metric: "  the writer's fsyncs during that run",
    unit: 'count',
    key: 'disk',
    get: (o) => o.backgroundWriter?.fsyncs ?? null,
    only: ['pigeon'],
  });
  row({
    metric: 'flush 10,000 offline messages (hello → synced), median of 3',
    unit: 'ms',
    key: 'flush',
    get: (o) => o.medianMs,
    digits: 1,
    goal: `≤ ${GOALS.flushMs} ms`,
    check: (v) => atMost(GOALS.flushMs, v, 'ms', 1),
    only: ['pigeon'],
  });
  row({
    metric: '  first reconnect after a server start',
    unit: 'ms',
    key: 'flush',
    get: (o) => o.firstMs,
    digits: 1,
    only: ['pigeon'],
  });
  row({
    metric: 'server memory per idle connection (5,000), RSS after full GC',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.bytesPerConn / 1024,
    digits: 2,
    goal: '≤ 6 KiB',
    check: (v) => atMost(GOALS.bytesPerConn / 1024, v, 'KiB'),
    only: ['pigeon', 'baseline'],
  });
  row({
    metric: '  same, read before that GC',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.bytesPerConnNoGc / 1024,
    digits: 2,
    only: ['pigeon', 'baseline'],
  });
  row({
    metric: '  of which JS heap (after GC)',
    unit: 'KiB',
    key: 'memory',
    get: (o) => o.heapBytesPerConn / 1024,
    digits: 2,
    only: ['pigeon', 'baseline'],
  });
  return rows;
}

export function printTable(rows) {
  const head = ['metric', 'Pigeon', 'bare ws', 'Socket.IO', '× bare ws', '× Socket.IO', 'goal', 'met?'];
  const all = [head, ...rows.map((r) => r.cells)];
  const w = head.map((_, i) => Math.max(...all.map((c) => String(c[i]).length)));
  const left = (i) => i === 0 || i >= 6;
  const line = (c) => `| ${c.map((x, i) => String(x)[left(i) ? 'padEnd' : 'padStart'](w[i])).join(' | ')} |`;
  const out = [
    line(head),
    `|${w.map((n, i) => (left(i) ? `:${'-'.repeat(n + 1)}` : `${'-'.repeat(n + 1)}:`)).join('|')}|`,
    ...rows.map((r) => line(r.cells)),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
