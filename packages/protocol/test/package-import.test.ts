import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(pkgDir, 'dist');
const tscBin = path.resolve(pkgDir, '../../node_modules/typescript/bin/tsc');

// The package is consumed as built ESM by other workspaces, bots and plain Node scripts;
// build it here so the check runs against what they import, not against src.
beforeAll(() => {
  execFileSync(process.execPath, [tscBin, '-p', 'tsconfig.build.json'], { cwd: pkgDir });
}, 60_000);

describe('the built package', () => {
  it('is importable by name from a plain Node script', () => {
    const script = [
      "import { decodeClientFrame, encode, PROTOCOL_VERSION } from '@pigeon/protocol';",
      "const r = decodeClientFrame(encode({ t: 'send', id: 'm1', to: 'Bob', body: 'hi' }));",
      'console.log(JSON.stringify({ v: PROTOCOL_VERSION, r }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkgDir });
    expect(JSON.parse(out.toString())).toEqual({
      v: 1,
      r: { ok: true, frame: { t: 'send', id: 'm1', to: 'bob', body: 'hi' } },
    });
  });

  it('imports nothing from Node or the DOM, only valibot and its own files', () => {
    const specifiers = new Set<string>();
    for (const file of readdirSync(dist).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(path.join(dist, file), 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*from\s*['"]([^'"]+)['"]/g)) specifiers.add(m[1]!);
      expect(text).not.toMatch(/\b(require\(|process\.|Buffer\b|window\.|document\.)/);
    }
    const external = [...specifiers].filter((s) => !s.startsWith('./'));
    expect(external).toEqual(['valibot']);
  });
});
