import { describe, expect, it } from 'vitest';
import {
  contentDisposition,
  fallbackBody,
  formatFileSize,
  isFileName,
  isThumb,
  LIMITS,
  parseMediaType,
} from '../src/index.js';

describe('formatFileSize', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1049, '1.0 kB'],
    [1050, '1.1 kB'],
    [9949, '9.9 kB'],
    [9950, '10 kB'],
    [340_000, '340 kB'],
    [999_499, '999 kB'],
    [999_500, '1.0 MB'],
    [1_200_000, '1.2 MB'],
    [12_345_678, '12 MB'],
    [LIMITS.fileMaxBytesDefault, '25 MB'],
    [LIMITS.fileQuotaBytesDefault, '1.0 GB'],
    [5e15, '5000 TB'],
  ])('%i bytes → %s', (bytes, text) => {
    expect(formatFileSize(bytes)).toBe(text);
  });
});

describe('fallbackBody: what a client without files sees', () => {
  const pdf = { name: 'report.pdf', size: 1_200_000 };
  it('the caption, then one line per file', () => {
    expect(fallbackBody('see attached', [pdf, { name: 'a.png', size: 999 }])).toBe(
      'see attached\n📎 report.pdf (1.2 MB)\n📎 a.png (999 B)',
    );
  });
  it('without a caption, the lines alone', () => {
    expect(fallbackBody('', [pdf])).toBe('📎 report.pdf (1.2 MB)');
  });
  it(`never longer than ${LIMITS.bodyMaxLength} units`, () => {
    const body = fallbackBody('x'.repeat(LIMITS.bodyMaxLength), [pdf]);
    expect(body.length).toBe(LIMITS.bodyMaxLength);
    expect(body.endsWith('…')).toBe(true);
    const exact = fallbackBody('x'.repeat(LIMITS.bodyMaxLength - 24), [pdf]);
    expect(exact.length).toBe(LIMITS.bodyMaxLength - 1);
    expect(exact.endsWith('(1.2 MB)')).toBe(true);
  });
});

describe('isFileName', () => {
  it.each([
    ['a', true],
    ['report 2024 (final).pdf', true],
    ['日本語のファイル.txt', true],
    ['😀.png', true],
    ['n'.repeat(LIMITS.fileNameMaxLength), true],
    ['n'.repeat(LIMITS.fileNameMaxLength + 1), false],
    ['', false],
    ['.', false],
    ['..', false],
    ['...', true],
    ['dir/file', false],
    ['dir\\file', false],
    ['line\nbreak', false],
    ['tab\there', false],
    ['nul\u0000', false],
    ['c1\u0085', false],
    ['\u202efdp.exe', false],
    ['iso\u2066late', false],
    ['lone\ud800', false],
  ])('%j → %s', (name, ok) => {
    expect(isFileName(name)).toBe(ok);
  });
});

describe('parseMediaType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['Image/PNG', 'image/png'],
    ['text/plain; charset=utf-8', 'text/plain'],
    [
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    ['image/svg+xml', 'image/svg+xml'],
    [`a/${'b'.repeat(LIMITS.fileTypeMaxLength - 2)}`, `a/${'b'.repeat(LIMITS.fileTypeMaxLength - 2)}`],
    [`a/${'b'.repeat(LIMITS.fileTypeMaxLength - 1)}`, null],
    ['png', null],
    ['image/', null],
    ['/png', null],
    ['image/png/x', null],
    ['image/p ng', null],
    ['', null],
    [7, null],
  ])('%j → %j', (input, out) => {
    expect(parseMediaType(input)).toBe(out);
  });
});

describe('isThumb', () => {
  const b64 = (n: number) => 'A'.repeat(n);
  const head = 'data:image/webp;base64,';
  it('a small data URL of a JPEG, PNG or WebP', () => {
    expect(isThumb(`${head}${b64(LIMITS.thumbMaxLength - head.length)}`)).toBe(true);
    expect(isThumb(`${head}${b64(LIMITS.thumbMaxLength - head.length + 1)}`)).toBe(false);
    expect(isThumb('data:image/jpeg;base64,AAAA==')).toBe(true);
    expect(isThumb('data:image/svg+xml;base64,AAAA')).toBe(false);
    expect(isThumb('data:image/png;base64,')).toBe(false);
    expect(isThumb('data:image/png;base64,AA AA')).toBe(false);
    expect(isThumb('https://example.com/x.png')).toBe(false);
  });
});

describe('contentDisposition', () => {
  it('inline only when asked, the name in ASCII and exactly in filename*', () => {
    expect(contentDisposition('photo.jpg', true)).toBe(
      `inline; filename="photo.jpg"; filename*=UTF-8''photo.jpg`,
    );
    expect(contentDisposition('Résumé "final".pdf', false)).toBe(
      `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
  });
  it('escapes what could end the header or the quoted string', () => {
    const cd = contentDisposition(`a\\b";x=1'(c)*.txt`, false);
    expect(cd).toBe(
      `attachment; filename="a_b_;x=1'(c)*.txt"; filename*=UTF-8''a%5Cb%22%3Bx%3D1%27%28c%29%2A.txt`,
    );
    expect(cd).not.toMatch(/[\r\n]/);
  });
  it('non-Latin names round-trip through filename*', () => {
    const name = '中文 報告 😀.pdf';
    const star = contentDisposition(name, false).split("filename*=UTF-8''")[1]!;
    expect(decodeURIComponent(star)).toBe(name);
  });
});
