import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

/**
 * The README's variable tables are the documentation of the configuration: every variable
 * the server reads has a row, every row names a variable the server reads, and a default
 * written as a value is the real default (setting the variable to it changes nothing).
 * A default changed in config.ts without the README, or a variable added without a row,
 * fails here.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = path.join(repo, 'README.md');

/** Every variable name `loadConfig` looks up, found by handing it an environment that records reads. */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  return read;
}

interface Row {
  variable: string;
  line: number;
  /**
   * The default when the cell is one value in backticks, perhaps with a remark in brackets
   * ("`2592000` (30 days)"); else null: prose ("unset") or a default that depends on other
   * settings ("`files/` beside `PIGEON_DB`").
   */
  value: string | null;
}

/** Rows of the README's tables whose first cell is a variable name in backticks. */
function documentedRows(): Row[] {
  const rows: Row[] = [];
  for (const [i, line] of fs.readFileSync(README, 'utf8').split('\n').entries()) {
    const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const value = /^\s*`([^`]*)`\s*(\([^)]*\))?\s*$/.exec(m[2]!)?.[1] ?? null;
    rows.push({ variable: m[1]!, line: i + 1, value });
  }
  return rows;
}

describe('the README documents the configuration', () => {
  const read = variablesRead();
  const rows = documentedRows();

  it('finds the variables and the tables (guards the two helpers above)', () => {
    expect(read.has('PIGEON_DB')).toBe(true);
    expect(read.has('PORT')).toBe(true);
    expect(rows.some((r) => r.variable === 'PIGEON_DB' && r.value === './data/pigeon.db')).toBe(true);
  });

  it('every variable the server reads has a row', () => {
    const documented = new Set(rows.map((r) => r.variable));
    expect([...read].filter((v) => !documented.has(v)).sort()).toEqual([]);
  });

  it('every row names a variable the server reads', () => {
    expect(rows.filter((r) => !read.has(r.variable)).map((r) => `README.md:${r.line} ${r.variable}`)).toEqual(
      [],
    );
  });

  it('a default written as a value is the default: setting it changes nothing', () => {
    const defaults = loadConfig({});
    const wrong: string[] = [];
    for (const row of rows) {
      if (row.value === null) continue;
      // The web root is documented relative to the checkout; the server resolves it against
      // its working directory.
      const value = row.variable === 'PIGEON_WEB_ROOT' ? path.join(repo, row.value) : row.value;
      let same: boolean;
      try {
        same = JSON.stringify(loadConfig({ [row.variable]: value })) === JSON.stringify(defaults);
      } catch {
        same = false;
      }
      if (!same) wrong.push(`README.md:${row.line} ${row.variable} = ${row.value}`);
    }
    expect(wrong).toEqual([]);
  });
});
