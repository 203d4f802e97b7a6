/// <reference types="node" />
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyValueStorage } from '../types.js';

/**
 * Keeps every key in one JSON file. Each change re-reads the file and rewrites it through a
 * temporary file and a rename: a crash leaves either the old or the new state, and two
 * processes sharing the file (`pigeon listen` and `pigeon send`) only overwrite each other's
 * keys, never the whole file with a stale copy. Synchronous on purpose: the writes are small.
 */
export function fileStorage(path: string): KeyValueStorage {
  const load = (): Record<string, string> => {
    try {
      const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, string>)
        : {};
    } catch {
      return {};
    }
  };
  const save = (data: Record<string, string>) => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    renameSync(tmp, path);
  };
  return {
    get: (key) => {
      const value = load()[key];
      return typeof value === 'string' ? value : null;
    },
    set: (key, value) => {
      const data = load();
      data[key] = value;
      save(data);
    },
    remove: (key) => {
      const data = load();
      if (!(key in data)) return;
      delete data[key];
      save(data);
    },
  };
}
