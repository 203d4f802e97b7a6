/// <reference types="node" />
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyValueStorage } from '../types.js';

/**
 * Keeps every key in one JSON file. Each change rewrites the file through a temporary file
 * and a rename, so a crash leaves either the old or the new state, never half of one.
 * Synchronous on purpose: the writes are small and it keeps a bot's state consistent.
 */
export function fileStorage(path: string): KeyValueStorage {
  let cache: Record<string, string> | null = null;
  const load = (): Record<string, string> => {
    if (cache) return cache;
    try {
      const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
      cache =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? (value as Record<string, string>)
          : {};
    } catch {
      cache = {};
    }
    return cache;
  };
  const save = () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(load(), null, 2), { mode: 0o600 });
    renameSync(tmp, path);
  };
  return {
    get: (key) => load()[key] ?? null,
    set: (key, value) => {
      load()[key] = value;
      save();
    },
    remove: (key) => {
      const data = load();
      if (!(key in data)) return;
      delete data[key];
      save();
    },
  };
}
