import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, startChild } from './child.js';
import { tempDir } from './helpers.js';

let child: Child;
beforeAll(async () => {
  child = await startChild({
    PIGEON_DB: path.join(tempDir(), 'pigeon.db'),
    PIGEON_SECRET: crypto.randomBytes(32).toString('hex'),
    LOG_LEVEL: 'debug',
  });
});
afterAll(async () => {
  child.proc.kill('SIGTERM');
  await child.exited;
});

/** Resolves once the child's output has a line matching `pattern` (on output events, no polling). */
function logLine(pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no log line ${pattern}:\n${child.output()}`)), 10_000);
    const check = () => {
      const line = child
        .output()
        .split('\n')
        .find((l) => pattern.test(l));
      if (!line) return;
      clearTimeout(timer);
      child.proc.stdout!.off('data', check);
      resolve(line);
    };
    child.proc.stdout!.on('data', check);
    check();
  });
}

describe('logs', () => {
  it('a client that hangs up mid-body is a debug line, not an error with a stack (issue 9, finding 9)', async () => {
    const sock = net.connect(child.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write(
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"u',
    );
    // Let the server start reading the body, then vanish.
    await fetch(`${child.url}/healthz`);
    sock.destroy();
    const line = JSON.parse(await logLine(/client went away/)) as { level: number };
    expect(line.level).toBe(20);
    expect(child.output()).not.toMatch(/"level":50/);
  });
});
