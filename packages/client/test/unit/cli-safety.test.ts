import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { terminalSafe, terminalSafeJson } from '../../src/cli/terminal-text.js';
import { fileStorage } from '../../src/node/file-storage.js';

describe('terminal escaping (issue 9.7)', () => {
  it('escapes ESC, BEL, CR, LF and the other C0 controls, DEL and C1, keeps TAB and printable text', () => {
    expect(terminalSafe('a\u001b]0;title\u0007b\r\nFAKE line')).toBe('a\\e]0;title\\x07b\\r\\nFAKE line');
    expect(terminalSafe('\u0000\u0008\t\u000b\u001f \u007e\u007f\u0080\u009b\u009f\u00a0é')).toBe(
      '\\x00\\x08\t\\x0b\\x1f ~\\x7f\\u{0080}\\u{009b}\\u{009f}\u00a0é',
    );
    // A backslash is doubled, so an escaped control and the same text typed by hand differ.
    expect(terminalSafe('\\e')).toBe('\\\\e');
    expect(terminalSafe('héllo 👋 مرحبا שלום 你好')).toBe('héllo 👋 مرحبا שלום 你好');
  });

  it('escapes bidi embeddings, overrides and isolates and the Unicode line separators, at their boundaries', () => {
    const escaped = ['\u202a', '\u202e', '\u2066', '\u2069', '\u2028', '\u2029'];
    for (const c of escaped) expect(terminalSafe(`x${c}y`)).toBe(`x\\u{${c.charCodeAt(0).toString(16)}}y`);
    // Their neighbours are ordinary characters.
    for (const c of ['\u2027', '\u202f', '\u2065', '\u206a', '\u200e', '\u200f']) {
      expect(terminalSafe(`x${c}y`)).toBe(`x${c}y`);
    }
  });

  it('JSON output escapes what JSON.stringify leaves raw, and still parses to the same value', () => {
    const m = { body: 'a\u009b31mred\u202egnp.exe\u007f\u001b\n', from: 'x' };
    const text = terminalSafeJson(m);
    expect(controlsIn(text)).toEqual([]);
    expect(JSON.parse(text)).toEqual(m);
  });
});

describe('fileStorage (one file per key, atomic, locked)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'pigeon-fs-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('round-trips keys as private files and leaves no temporary or lock files behind', async () => {
    const dir = join(tmp(), 'state');
    const s = fileStorage(dir);
    await s.set('pigeon:u:alice:cursor', 'c1');
    await s.set('../escape', 'no');
    expect(await s.get('pigeon:u:alice:cursor')).toBe('c1');
    expect(await s.get('../escape')).toBe('no');
    expect(await s.get('missing')).toBeNull();
    await s.remove('../escape');
    expect(await s.get('../escape')).toBeNull();
    expect(readdirSync(dir)).toEqual(['pigeon%3Au%3Aalice%3Acursor']);
    expect(statSync(join(dir, 'pigeon%3Au%3Aalice%3Acursor')).mode & 0o077).toBe(0);
    expect(statSync(dir).mode & 0o077).toBe(0);
  });

  it('update() serialises concurrent read-modify-writes: 40 concurrent appends lose nothing', async () => {
    const dir = join(tmp(), 'state');
    // Separate storage objects, as separate processes would have.
    const writers = Array.from({ length: 40 }, () => fileStorage(dir));
    await Promise.all(
      writers.map((s, i) =>
        s.update?.('list', (cur) => JSON.stringify([...(cur ? (JSON.parse(cur) as number[]) : []), i])),
      ),
    );
    const list = JSON.parse((await writers[0]?.get('list')) ?? '[]') as number[];
    expect(list.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await writers[0]?.update?.('list', () => null);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('migrates the old one-file format, from the path itself or from a legacy file, keeping newer keys', async () => {
    const base = tmp();
    const old = join(base, 'bot.json');
    writeFileSync(old, JSON.stringify({ a: '1', b: '2', bad: 3 }));
    const s = fileStorage(old);
    expect(await s.get('a')).toBe('1');
    expect(statSync(old).isDirectory()).toBe(true);
    expect(readdirSync(base)).toEqual(['bot.json']);

    const legacy = join(base, 'config.state.json');
    writeFileSync(legacy, JSON.stringify({ cursor: 'old', outbox: '[]' }));
    const dir = join(base, 'config.state');
    await fileStorage(dir).set('cursor', 'new');
    const migrated = fileStorage(dir, { legacyFile: legacy });
    expect(await migrated.get('cursor')).toBe('new');
    expect(await migrated.get('outbox')).toBe('[]');
    expect(() => readFileSync(legacy)).toThrow();
  });
});

/** The characters a terminal would act on (what the CLI must never print raw), as code points. */
function controlsIn(text: string): number[] {
  const bad = (c: number) =>
    (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069);
  return [...text].map((ch) => ch.codePointAt(0) ?? 0).filter(bad);
}
