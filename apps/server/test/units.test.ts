import type { IncomingMessage } from 'node:http';
import { encode } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/auth/rate-limiter.js';
import { DEFAULTS, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/config-parse.js';
import { originAllowed } from '../src/http/origin.js';
import { safeRelative } from '../src/http/static-files.js';
import { UserLists } from '../src/router/user-lists.js';
import { encodeCursor } from '../src/store/cursor.js';
import { msgText } from '../src/store/msg-text.js';

describe('RateLimiter', () => {
  it('starts full, refills at its rate, caps at capacity, and says how long to wait', () => {
    const l = new RateLimiter(4, 2);
    for (let i = 0; i < 4; i++) expect(l.take('k', 0)).toBe(0);
    expect(l.take('k', 0)).toBe(500);
    expect(l.take('k', 250)).toBe(250);
    expect(l.take('k', 500)).toBe(0);
    expect(l.take('other', 500)).toBe(0);
    // Long idle: back to capacity, not beyond.
    for (let i = 0; i < 4; i++) expect(l.take('k', 100_000)).toBe(0);
    expect(l.take('k', 100_000)).toBeGreaterThan(0);
    l.prune(1_000_000);
    expect(l.size).toBe(0);
  });

  it('grants the token owed at exactly its time, however the time arrived in pieces', () => {
    // 2 a minute: 29.999 s then 0.001 s more add up to one token (in floats, a hair less).
    const l = new RateLimiter(2, 2 / 60);
    expect([l.take('k', 0), l.take('k', 0)]).toEqual([0, 0]);
    expect(l.take('k', 29_999)).toBeGreaterThan(0);
    expect(l.take('k', 30_000)).toBe(0);
    expect(l.take('k', 30_000)).toBe(30_000);
  });
});

describe('loadConfig', () => {
  it('has the spec defaults (PROTOCOL.md "Server configuration")', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dbPath: './data/pigeon.db',
      secret: null,
      tokenTtlSec: 2_592_000,
      authRate: 30,
      trustProxy: false,
      jwtSecret: null,
      origins: [],
      rate: 20,
      mailboxMax: 10_000,
      retentionDays: 30,
      legacy: false,
      logLevel: 'info',
    });
    expect(c.webRoot).toMatch(/apps[/\\]web[/\\]dist$/);
    // The rest are this server's own choices: config-docs.test.ts holds them to the README.
    expect(c).toEqual(DEFAULTS);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      PIGEON_DB: '/tmp/x.db',
      PIGEON_SECRET: 's'.repeat(32),
      PIGEON_TOKEN_TTL: '60',
      PIGEON_AUTH_RATE: '100000',
      PIGEON_TRUST_PROXY: '1',
      PIGEON_JWT_SECRET: 'j'.repeat(32),
      PIGEON_ORIGINS: 'https://a.example, http://b.example:8080',
      PIGEON_RATE: '1000000',
      PIGEON_MAILBOX_MAX: '50',
      PIGEON_RETENTION_DAYS: '0.5',
      PIGEON_LEGACY: '1',
      LOG_LEVEL: 'debug',
      PIGEON_WEB_ROOT: '/srv/web',
      PIGEON_DB_SYNC: 'normal',
      PIGEON_MAX_BUFFERED: '1048576',
      PIGEON_MAX_BUFFERED_USER: '2097152',
      PIGEON_MAX_CONNS_PER_USER: '3',
      PIGEON_MAX_CONNS_PER_IP: '7',
      PIGEON_HELLO_RATE: '5',
      PIGEON_HELLO_RATE_IP: '50',
      PIGEON_READ_RATE: '2.5',
      PIGEON_FRAME_RATE: '500',
      PIGEON_LEGACY_ALLOW: '10.0.0.0/8',
      PIGEON_METRICS_ALLOW: '192.0.2.1',
      PIGEON_METRICS_TOKEN: 'm'.repeat(32),
      PIGEON_JWT_MAX_TTL: '600',
      PIGEON_API_TIMEOUT: '3',
    });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      dbPath: '/tmp/x.db',
      secret: 's'.repeat(32),
      tokenTtlSec: 60,
      authRate: 100_000,
      trustProxy: true,
      jwtSecret: 'j'.repeat(32),
      origins: ['https://a.example', 'http://b.example:8080'],
      rate: 1_000_000,
      mailboxMax: 50,
      retentionDays: 0.5,
      legacy: true,
      logLevel: 'debug',
      webRoot: '/srv/web',
      dbSync: 'normal',
      maxBufferedBytes: 1_048_576,
      maxBufferedUserBytes: 2_097_152,
      maxConnsPerUser: 3,
      maxConnsPerIp: 7,
      helloRateUser: 5,
      helloRateIp: 50,
      readRate: 2.5,
      frameRate: 500,
      metricsToken: 'm'.repeat(32),
      jwtMaxTtlSec: 600,
      apiTimeoutSec: 3,
    });
    expect(c.legacyAllow.has('10.9.8.7')).toBe(true);
    expect(c.legacyAllow.has('127.0.0.1')).toBe(false);
    expect(c.metricsAllow.has('192.0.2.1')).toBe(true);
    expect(c.metricsAllow.has('192.0.2.2')).toBe(false);
  });

  it('has the hardening defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      maxConnsPerUser: 20,
      maxConnsPerIp: 100,
      helloRateUser: 30,
      helloRateIp: 300,
      readRate: 20,
      frameRate: 1000,
      maxBufferedUserBytes: 16 * 1024 * 1024,
      metricsToken: null,
      jwtMaxTtlSec: 86_400,
      apiTimeoutSec: 5,
    });
    // Legacy: loopback only. Metrics: loopback and private ranges, not public addresses.
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'])
      expect(c.legacyAllow.has(ip)).toBe(true);
    for (const ip of ['10.0.0.1', '192.168.1.1', '::2', '8.8.8.8']) expect(c.legacyAllow.has(ip)).toBe(false);
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      'fd00::1',
      '::1',
    ])
      expect(c.metricsAllow.has(ip), ip).toBe(true);
    for (const ip of ['172.32.0.1', '8.8.8.8', '2001:db8::1', '::ffff:8.8.8.8', 'garbage', ''])
      expect(c.metricsAllow.has(ip), ip).toBe(false);
  });

  it.each([['PIGEON_SECRET'], ['PIGEON_JWT_SECRET'], ['PIGEON_METRICS_TOKEN']])(
    '%s: 32 bytes pass, 31 stop the start with a message naming it',
    (name) => {
      expect(() => loadConfig({ [name]: 'k'.repeat(32) })).not.toThrow();
      // Bytes, not characters: 16 two-byte letters are 32 bytes.
      expect(() => loadConfig({ [name]: 'é'.repeat(16) })).not.toThrow();
      try {
        loadConfig({ [name]: 'k'.repeat(31) });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).variable).toBe(name);
        expect((err as Error).message).toMatch(/at least 32 bytes/);
      }
    },
  );

  it.each([
    ['PORT', '65536'],
    ['PORT', '8080x'],
    ['PIGEON_RATE', '0'],
    ['PIGEON_RATE', '-1'],
    ['PIGEON_MAILBOX_MAX', '0'],
    ['PIGEON_TOKEN_TTL', '1e3'],
    ['PIGEON_LEGACY', 'yes please'],
    ['PIGEON_MAX_BUFFERED', '100'],
    ['PIGEON_MAX_CONNS_PER_USER', '0'],
    ['PIGEON_MAX_CONNS_PER_IP', 'many'],
    ['PIGEON_HELLO_RATE', '0'],
    ['PIGEON_READ_RATE', '0'],
    ['PIGEON_FRAME_RATE', '9'],
    ['PIGEON_LEGACY_ALLOW', '10.0.0.0/33'],
    ['PIGEON_LEGACY_ALLOW', 'localhost'],
    ['PIGEON_METRICS_ALLOW', '::1/129'],
    ['PIGEON_JWT_MAX_TTL', '59'],
    ['PIGEON_API_TIMEOUT', '0'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(name);
      expect((err as Error).message).toContain(name);
    }
  });
});

describe('originAllowed', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  it.each([
    [{}, true],
    [{ origin: 'http://h:8080', host: 'h:8080' }, true],
    [{ origin: 'http://H:8080', host: 'h:8080' }, true],
    [{ origin: 'http://h', host: 'h:80' }, true],
    [{ origin: 'http://h:80', host: 'h' }, true],
    [{ origin: 'https://h', host: 'h' }, true],
    [{ origin: 'https://h', host: 'h:443' }, true],
    [{ origin: 'http://[::1]:8080', host: '[::1]:8080' }, true],
    [{ origin: 'http://h:8081', host: 'h:8080' }, false],
    [{ origin: 'http://other:8080', host: 'h:8080' }, false],
    [{ origin: 'https://h', host: 'h:80' }, false],
    [{ origin: 'null', host: 'h' }, false],
    [{ origin: 'http://h:8080' }, false],
    [{ origin: 'file://x', host: 'x' }, false],
  ])('%j → %s', (headers, ok) => {
    expect(originAllowed(req(headers as Record<string, string>), [])).toBe(ok);
  });

  it('allows PIGEON_ORIGINS entries exactly', () => {
    expect(
      originAllowed(req({ origin: 'https://app.example', host: 'api:1' }), ['https://app.example']),
    ).toBe(true);
    expect(
      originAllowed(req({ origin: 'https://app.example:443', host: 'api:1' }), ['https://app.example']),
    ).toBe(false);
  });
});

describe('safeRelative', () => {
  it.each([
    ['/', ''],
    ['/index.html', 'index.html'],
    ['/assets/a-1.js', 'assets/a-1.js'],
    ['/a//b/./c', 'a/b/c'],
    ['/.env', ''],
    ['/..', null],
    ['/a/../b', null],
    ['/%2e%2e/x', null],
    ['/%2E%2e%2fx', null],
    ['/..%5cx', null],
    ['/x%00', null],
    ['/%E0%A4%A', null],
  ])('%s → %s', (p, expected) => {
    expect(safeRelative(p)).toBe(expected);
  });
});

describe('cursors', () => {
  it('are distinct per mailbox and sort as they grow', () => {
    expect(encodeCursor('0000abcd', 1)).not.toBe(encodeCursor('0000abce', 1));
    const list = [1, 2, 35, 36, 1295, 1296, 10_000_000].map((n) => encodeCursor('0000abcd', n));
    expect([...list].sort()).toEqual(list);
  });
});

describe('msgText', () => {
  it('writes exactly what encode() writes, for bodies JSON must escape', () => {
    const bodies = [
      'plain',
      'quote " and \\ backslash',
      'line\nbreak\ttab\u0000nul',
      'émoji 🐦 \u2028',
      '\ud800 lone',
      '</script>',
    ];
    for (const body of bodies) {
      for (const delivered of [true, false]) {
        const frame = {
          t: 'msg' as const,
          cursor: encodeCursor('0a1b2c3d', 12345),
          id: 'Abc_-123',
          from: 'a.b-c_d',
          to: 'z9',
          body,
          ts: 1_700_000_000_123,
          delivered,
        };
        expect(msgText(frame)).toBe(encode(frame));
      }
    }
  });
});

describe('UserLists', () => {
  it('keeps each item once per user; a list taken is a snapshot that changes do not disturb', () => {
    const lists = new UserLists<string>();
    lists.add('ann', 'a1');
    lists.add('ann', 'a2');
    lists.add('ann', 'a1');
    lists.add('bob', 'b1');
    const taken = lists.of('ann');
    expect(taken).toEqual(['a1', 'a2']);
    // What a delivery loop does when a target closes under it: the loop goes on unchanged.
    const seen: string[] = [];
    for (const item of taken) {
      seen.push(item);
      lists.remove('ann', 'a1');
      lists.remove('ann', 'a2');
    }
    expect(seen).toEqual(['a1', 'a2']);
    expect(lists.of('ann')).toEqual([]);
    lists.remove('ann', 'a1');
    lists.remove('nobody', 'x');
    expect(lists.of('bob')).toEqual(['b1']);
    lists.clear();
    expect(lists.of('bob')).toEqual([]);
  });
});
