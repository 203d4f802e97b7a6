// A background disk writer for the "latency while the disk is busy" run: writes 4 KiB and
// fdatasyncs it, in a loop, to a file in DIR (argv[2]) on the same disk as the databases,
// like another database or a log shipper on the machine. On SIGTERM it prints one JSON line
// with how many fsyncs it did and their p50/p99, then exits.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const file = join(process.argv[2], 'background-writer');
const fd = openSync(file, 'w');
const page = Buffer.alloc(4096, 7);
const times = [];
let running = true;
let offset = 0;

process.on('SIGTERM', () => {
  running = false;
});

function burst() {
  // A few fsyncs per turn, then yield so SIGTERM is seen.
  for (let i = 0; i < 8 && running; i++) {
    // Cycle through 16 MiB so the file's blocks keep being rewritten.
    writeSync(fd, page, 0, page.length, offset);
    offset = (offset + page.length) % (16 * 1024 * 1024);
    const t = performance.now();
    fdatasyncSync(fd);
    times.push(performance.now() - t);
  }
  if (running) setImmediate(burst);
  else {
    closeSync(fd);
    rmSync(file, { force: true });
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] ?? null;
    process.stdout.write(`${JSON.stringify({ fsyncs: times.length, p50Ms: q(0.5), p99Ms: q(0.99) })}\n`);
    process.exit(0);
  }
}
burst();
