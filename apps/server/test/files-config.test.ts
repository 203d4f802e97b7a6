import path from 'node:path';
import { LIMITS } from '@pigeon/protocol';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/config-parse.js';
import { filesDir } from '../src/files/file-parts.js';

// The files variables of README "Configuration" at their boundaries: the largest or
// smallest value that loads, and the first one refused with a ConfigError naming it.

function refused(env: Record<string, string>, variable: string): void {
  try {
    loadConfig(env);
    expect.unreachable(`${JSON.stringify(env)} loaded`);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
  }
}

const DB = 'postgres://pigeon@127.0.0.1:5432/pigeon';

describe('files configuration', () => {
  it('has the spec defaults (PROTOCOL.md "Files": decimal units)', () => {
    expect(loadConfig({})).toMatchObject({
      fileMax: 25_000_000,
      fileQuota: 1_000_000_000,
      uploadRate: 60,
      uploadTtlSec: 86_400,
      filesDir: null,
      fileStore: null,
    });
    expect(LIMITS.fileMaxBytesDefault).toBe(25_000_000);
    expect(LIMITS.fileQuotaBytesDefault).toBe(1_000_000_000);
  });

  it.each([
    ['PIGEON_FILE_MAX', 'fileMax', '1', '0'],
    ['PIGEON_FILE_MAX', 'fileMax', String(2 ** 40), String(2 ** 40 + 1)],
    ['PIGEON_FILE_QUOTA', 'fileQuota', '1', '0'],
    ['PIGEON_FILE_QUOTA', 'fileQuota', String(2 ** 50), String(2 ** 50 + 1)],
    ['PIGEON_UPLOAD_RATE', 'uploadRate', '1', '0'],
    ['PIGEON_UPLOAD_TTL', 'uploadTtlSec', '60', '59'],
    ['PIGEON_UPLOAD_TTL', 'uploadTtlSec', String(365 * 24 * 3600), String(365 * 24 * 3600 + 1)],
  ])('%s: %s=%s loads, the next value out is refused', (variable, field, ok, bad) => {
    expect(loadConfig({ [variable]: ok })).toMatchObject({ [field]: Number(ok) });
    refused({ [variable]: bad }, variable);
  });

  it('PIGEON_FILE_STORE: a store every node reaches, or a refusal at start', () => {
    expect(loadConfig({ PIGEON_FILE_STORE: 'fs' }).fileStore).toBe('fs');
    expect(loadConfig({ PIGEON_FILE_STORE: 'postgres', PIGEON_DATABASE_URL: DB }).fileStore).toBe('postgres');
    refused({ PIGEON_FILE_STORE: 's3' }, 'PIGEON_FILE_STORE');
    // Large objects need PostgreSQL; a local directory is one node's, not a cluster's.
    refused({ PIGEON_FILE_STORE: 'postgres' }, 'PIGEON_FILE_STORE');
    refused(
      { PIGEON_FILE_STORE: 'fs', PIGEON_DATABASE_URL: DB, PIGEON_REDIS_URL: 'redis://127.0.0.1:6379' },
      'PIGEON_FILE_STORE',
    );
    expect(loadConfig({ PIGEON_FILE_STORE: 'fs', PIGEON_DATABASE_URL: DB }).fileStore).toBe('fs');
  });

  it('PIGEON_FILES_DIR: where it says, else files/ beside PIGEON_DB', () => {
    expect(filesDir(loadConfig({ PIGEON_DB: '/srv/pigeon/chat.db' }))).toBe(
      path.resolve('/srv/pigeon/files'),
    );
    expect(filesDir(loadConfig({ PIGEON_FILES_DIR: 'blobs' }))).toBe(path.resolve('blobs'));
  });
});
