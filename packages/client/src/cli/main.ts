#!/usr/bin/env node
import { run } from './run.js';

// The CLI entry: wires the process to `run`, which holds all the logic (and is testable).
const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  onInterrupt(callback) {
    process.once('SIGINT', callback);
    process.once('SIGTERM', callback);
    return () => {
      process.off('SIGINT', callback);
      process.off('SIGTERM', callback);
    };
  },
});
process.exitCode = code;
// Open handles (stdin in raw mode, sockets being closed) must not keep a finished command alive.
setTimeout(() => process.exit(code), 200).unref();
