// Frames decoded per second on the server's hot path (a `send`), through the package's
// valibot-based decoder versus the floor: JSON.parse plus hand-written checks of the same
// rules. Run after `npm run build`: node bench/decode-bench.mjs (rates per CPU second of this process).
import {
  decodeClientFrame,
  FEATURES,
  isWellFormedText,
  LIMITS,
  MESSAGE_ID_PATTERN,
  USER_ID_PATTERN,
} from '../dist/index.js';

const frames = Array.from({ length: 1024 }, (_, i) =>
  JSON.stringify({
    t: 'send',
    id: `0190f7f4-8c2a-7b3e-9d1a-${String(i).padStart(12, '0')}`,
    to: `User${i % 50}`,
    body: `message number ${i} `.repeat(3),
  }),
);

function handDecode(text) {
  let o;
  try {
    o = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o) || o.t !== 'send') return { ok: false };
  if (typeof o.id !== 'string' || !MESSAGE_ID_PATTERN.test(o.id)) return { ok: false };
  if (typeof o.to !== 'string' || o.to.length > 32) return { ok: false };
  const to = o.to.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  if (!USER_ID_PATTERN.test(to)) return { ok: false };
  if (typeof o.body !== 'string' || o.body.length === 0 || !isWellFormedText(o.body)) return { ok: false };
  if (o.body.length > LIMITS.bodyMaxLength) return { ok: false };
  return { ok: true, frame: { t: 'send', id: o.id, to, body: o.body } };
}

function measure(name, fn, ms = 1500) {
  for (let i = 0; i < 20_000; i++) fn(frames[i & 1023]);
  let n = 0;
  // Rates are per second of this process's CPU time, not of the wall clock: on a machine
  // shared with other work, time spent descheduled would otherwise count as decoding.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1024; i++) if (!fn(frames[i]).ok) throw new Error('decode failed');
    n += 1024;
  }
  const cpu = process.cpuUsage(cpu0);
  const rate = n / ((cpu.user + cpu.system) / 1e6);
  console.log(
    `${name.padEnd(28)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} frames per CPU second`,
  );
  return rate;
}

const floor = measure('JSON.parse + hand checks', handDecode);
const lib = measure('decodeClientFrame (valibot)', (t) => decodeClientFrame(t));
const all = new Set(FEATURES);
const libAll = measure('  … with every feature', (t) => decodeClientFrame(t, all));
console.log(
  `ratio valibot / hand-written: ${(lib / floor).toFixed(2)} (every feature: ${(libAll / floor).toFixed(2)})`,
);
