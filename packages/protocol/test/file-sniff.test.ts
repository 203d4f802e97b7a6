import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { INLINE_IMAGE_TYPES, imageFits, LIMITS, matchesDeclaredType, sniffImage } from '../src/index.js';

const bytes = (...parts: (number[] | string | Uint8Array)[]) => {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return new Uint8Array(out);
};
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u16be = (n: number) => [(n >>> 8) & 255, n & 255];
const u16le = (n: number) => [n & 255, (n >>> 8) & 255];
const u24le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const u32le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

/** A complete, valid PNG (zlib-compressed scanlines; CRCs are not checked by the sniffer). */
function png(width: number, height: number): Uint8Array {
  const raw = new Uint8Array((width * 3 + 1) * height);
  const chunk = (type: string, data: Uint8Array) => bytes(u32be(data.length), type, data, [0, 0, 0, 0]);
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    chunk('IHDR', bytes(u32be(width), u32be(height), [8, 2, 0, 0, 0])),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  );
}
const gif = (w: number, h: number) => bytes('GIF89a', u16le(w), u16le(h), [0, 0, 0], ';');
const riff = (chunk: Uint8Array) => bytes('RIFF', u32le(chunk.length + 4), 'WEBP', chunk);
const vp8 = (w: number, h: number) =>
  riff(bytes('VP8 ', u32le(10), [0x10, 0x02, 0x00], [0x9d, 0x01, 0x2a], u16le(w), u16le(h)));
const vp8l = (w: number, h: number) => {
  const bits = (w - 1) | ((h - 1) << 14);
  return riff(bytes('VP8L', u32le(5), [0x2f], u32le(bits >>> 0)));
};
const vp8x = (w: number, h: number) =>
  riff(bytes('VP8X', u32le(10), [0, 0, 0, 0], u24le(w - 1), u24le(h - 1)));
/** A JPEG head: SOI, APP0 (JFIF), an APP1 of `exif` padding bytes, a DQT, then SOF (0xC0 or another). */
const jpeg = (w: number, h: number, exif = 0, sof = 0xc0) =>
  bytes(
    [0xff, 0xd8],
    [0xff, 0xe0],
    u16be(16),
    'JFIF',
    [0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xe1],
    u16be(exif + 2),
    new Uint8Array(exif),
    [0xff, 0xdb],
    u16be(3),
    [0],
    [0xff, sof],
    u16be(17),
    [8],
    u16be(h),
    u16be(w),
    [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
  );

describe('sniffImage reads the size of each inline image type', () => {
  const rows: [string, string, Uint8Array, number, number][] = [
    ['PNG', 'image/png', png(3, 2), 3, 2],
    ['GIF', 'image/gif', gif(640, 480), 640, 480],
    ['WebP lossy (VP8)', 'image/webp', vp8(1024, 768), 1024, 768],
    ['WebP lossless (VP8L)', 'image/webp', vp8l(16_384, 1), 16_384, 1],
    ['WebP extended (VP8X)', 'image/webp', vp8x(2560, 1440), 2560, 1440],
    ['JPEG baseline', 'image/jpeg', jpeg(4032, 3024), 4032, 3024],
    ['JPEG progressive after a 60 kB APP1', 'image/jpeg', jpeg(800, 600, 60_000, 0xc2), 800, 600],
  ];
  it.each(rows)('%s', (_name, type, file, width, height) => {
    expect(sniffImage(type, file)).toEqual({ type, width, height });
  });
  it('refuses bytes of another type, and a type that is not an inline image', () => {
    expect(sniffImage('image/png', gif(1, 1))).toBeNull();
    expect(sniffImage('image/jpeg', bytes('<!doctype html><script>alert(1)</script>'))).toBeNull();
    expect(sniffImage('image/svg+xml', bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImage('image/webp', bytes('RIFF', u32le(4), 'WAVE'))).toBeNull();
  });
  it('refuses a size outside the bytes it was given, and a side of 0', () => {
    const full = jpeg(10, 10, 1000);
    expect(sniffImage('image/jpeg', full.subarray(0, full.length - 12))).toBeNull();
    expect(sniffImage('image/png', png(3, 2).subarray(0, 23))).toBeNull();
    expect(sniffImage('image/gif', gif(0, 5))).toBeNull();
    expect(sniffImage('image/jpeg', bytes([0xff, 0xd8, 0xff, 0xda], u16be(2)))).toBeNull();
  });
  it('never throws on truncated or random prefixes', () => {
    for (const type of INLINE_IMAGE_TYPES) {
      for (const file of [png(5, 5), gif(5, 5), vp8(5, 5), vp8l(5, 5), vp8x(5, 5), jpeg(5, 5)]) {
        for (let n = 0; n <= file.length; n++)
          expect(() => sniffImage(type, file.subarray(0, n))).not.toThrow();
      }
    }
  });
});

describe('matchesDeclaredType: a type that lies about itself', () => {
  it('a .png that is HTML does not match image/png; declared as text/html it has nothing to check', () => {
    const html = bytes('<html><body>hi</body></html>');
    expect(matchesDeclaredType('image/png', html)).toBe(false);
    expect(matchesDeclaredType('text/html', html)).toBe(true);
    expect(matchesDeclaredType('application/octet-stream', html)).toBe(true);
  });
  it('PDF: %PDF- within the first 1024 bytes', () => {
    expect(matchesDeclaredType('application/pdf', bytes('%PDF-1.7\n'))).toBe(true);
    expect(matchesDeclaredType('application/pdf', bytes(' '.repeat(1019), '%PDF-'))).toBe(true);
    expect(matchesDeclaredType('application/pdf', bytes(' '.repeat(1020), '%PDF-'))).toBe(false);
  });
  it('office documents are ZIP files', () => {
    const zip = bytes([0x50, 0x4b, 0x03, 0x04], new Uint8Array(26));
    expect(
      matchesDeclaredType('application/vnd.openxmlformats-officedocument.wordprocessingml.document', zip),
    ).toBe(true);
    expect(matchesDeclaredType('application/zip', bytes('PK\x01\x02'))).toBe(false);
  });
  it('types such as toString are not signatures', () => {
    expect(matchesDeclaredType('toString', bytes('x'))).toBe(true);
  });
});

describe('imageFits: the pixel limits at their boundaries', () => {
  const side = LIMITS.imageMaxSide;
  it.each([
    [side, 1, true],
    [side + 1, 1, false],
    [1, side, true],
    [1, side + 1, false],
    // 7071 × 7071 = 49,999,041 pixels passes; 7072 × 7071 = 50,006,112 does not.
    [7071, 7071, true],
    [7072, 7071, false],
    [10_000, 5_000, true],
    [10_000, 5_001, false],
  ])('%i × %i → %s', (width, height, ok) => {
    expect(imageFits({ width, height })).toBe(ok);
  });
});
