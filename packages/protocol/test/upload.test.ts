import { describe, expect, it } from 'vitest';
import {
  decodeUploadCompleted,
  decodeUploadCreated,
  decodeUploadRequest,
  HttpErrorCode,
} from '../src/index.js';

const sha = 'a'.repeat(64);
const ok = { name: 'cat.png', type: 'Image/PNG; x=1', size: 1 };

describe('decodeUploadRequest', () => {
  it('normalizes the type and keeps the optional fields', () => {
    expect(
      decodeUploadRequest({ ...ok, sha256: sha, thumb: 'data:image/png;base64,AAAA', extra: 1 }),
    ).toEqual({
      ok: true,
      request: {
        name: 'cat.png',
        type: 'image/png',
        size: 1,
        sha256: sha,
        thumb: 'data:image/png;base64,AAAA',
      },
    });
  });
  it.each([
    ['not an object', [ok], HttpErrorCode.invalidFile],
    ['null', null, HttpErrorCode.invalidFile],
    ['a bad name', { ...ok, name: 'a/b' }, HttpErrorCode.invalidFile],
    ['no type', { name: 'a', size: 1 }, HttpErrorCode.invalidFile],
    ['a fractional size', { ...ok, size: 1.5 }, HttpErrorCode.invalidFile],
    ['a negative size', { ...ok, size: -1 }, HttpErrorCode.invalidFile],
    ['a size past 2^53', { ...ok, size: 2 ** 53 }, HttpErrorCode.invalidFile],
    ['a string size', { ...ok, size: '10' }, HttpErrorCode.invalidFile],
    ['an upper-case sha256', { ...ok, sha256: 'A'.repeat(64) }, HttpErrorCode.invalidFile],
    ['a 63-digit sha256', { ...ok, sha256: 'a'.repeat(63) }, HttpErrorCode.invalidFile],
    ['an SVG thumb', { ...ok, thumb: 'data:image/svg+xml;base64,AAAA' }, HttpErrorCode.invalidFile],
    ['size 0', { ...ok, size: 0 }, HttpErrorCode.emptyFile],
    ['size 0 and a bad name: invalid_file first', { ...ok, size: 0, name: '' }, HttpErrorCode.invalidFile],
  ])('%s → %s', (_name, body, code) => {
    expect(decodeUploadRequest(body)).toMatchObject({ ok: false, code });
  });
});

describe('the answers a client reads', () => {
  it('created and completed', () => {
    expect(decodeUploadCreated({ id: 'f_1', offset: 0, expiresAt: 1 })).toEqual({
      id: 'f_1',
      offset: 0,
      expiresAt: 1,
    });
    expect(decodeUploadCreated({ id: 'bad id', offset: 0, expiresAt: 1 })).toBeNull();
    const file = { id: 'f_1', name: 'a.png', type: 'image/png', size: 3, width: 2, height: 1 };
    expect(decodeUploadCompleted({ file, sha256: sha })).toEqual({ file, sha256: sha });
    expect(decodeUploadCompleted({ file: { ...file, width: 0 }, sha256: sha })).toBeNull();
    expect(decodeUploadCompleted({ file, sha256: 'x' })).toBeNull();
  });
});
