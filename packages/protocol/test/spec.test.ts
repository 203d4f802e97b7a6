import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, FEATURES, HttpErrorCode, LIMITS, TooManyReason } from '../src/index.js';

// The codec and PROTOCOL.md must not drift apart: every code and every extension limit the
// codec exports is written down in the spec, and every LIMITS name the spec cites exists.
const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const spec = readFileSync(path.join(pkgDir, 'PROTOCOL.md'), 'utf8');
const baseline = spec.slice(
  spec.indexOf('# Pigeon wire protocol, version 1'),
  spec.indexOf('\n# Extensions'),
);

/** Limits of version 1, which the verbatim baseline states in words rather than by name. */
const V1_LIMITS = new Set([
  'maxPayloadBytes',
  'bodyMaxLength',
  'userIdMaxLength',
  'messageIdMaxLength',
  'ridMaxLength',
  'cursorMaxLength',
  'historyMaxLimit',
  'historyDefaultLimit',
  'presenceMaxUsers',
  'passwordMinLength',
  'passwordMaxLength',
  'helloTimeoutMs',
  'badFrameMaxCount',
  'badFrameWindowMs',
  'pingIntervalMs',
]);

describe('PROTOCOL.md and the codec agree', () => {
  it('part 1 is the version-1 baseline, verbatim', () => {
    const shared = path.resolve(pkgDir, '../../../shared/PROTOCOL.md');
    let original: string;
    try {
      original = readFileSync(shared, 'utf8');
    } catch {
      // A clone without the shared directory: the check of the heading below still runs.
      original = baseline;
    }
    expect(`${baseline}\n`.startsWith(original.trimEnd())).toBe(true);
    expect(baseline.startsWith('# Pigeon wire protocol, version 1')).toBe(true);
  });
  it.each(Object.values(ErrorCode))('error code %s is specified', (code) => {
    expect(spec).toContain(`\`${code}\``);
  });
  it.each(Object.values(HttpErrorCode))('HTTP code %s is specified', (code) => {
    expect(spec).toContain(`\`${code}\``);
  });
  it.each(Object.values(CloseCode))('close code %i is specified', (code) => {
    expect(spec).toMatch(new RegExp(`\\b${code}\\b`));
  });
  it.each(Object.values(TooManyReason))('close reason %s is specified', (reason) => {
    expect(spec).toContain(`\`${reason}\``);
  });
  it.each([...FEATURES])('feature %s has a row in the feature table', (feature) => {
    expect(spec).toMatch(new RegExp(`^\\| \`${feature}\` \\|`, 'm'));
  });
  it.each(Object.keys(LIMITS).filter((k) => !V1_LIMITS.has(k)))('extension limit %s is cited', (key) => {
    expect(spec).toContain(`LIMITS.${key}`);
  });
  it('every LIMITS name the spec cites exists', () => {
    const cited = new Set([...spec.matchAll(/LIMITS\.(\w+)/g)].map((m) => m[1]!));
    expect([...cited].filter((k) => !(k in LIMITS))).toEqual([]);
  });
});
