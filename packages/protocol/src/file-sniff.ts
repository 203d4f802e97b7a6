// Magic bytes: whether a file's first bytes agree with its declared type, and the
// dimensions of the four inline image types. Pure functions over a Uint8Array prefix, so
// the server (on the first `LIMITS.sniffBytes` of an upload) and a client (before it
// uploads) decide alike.

import { type InlineImageType, isInlineImageType } from './files.js';
import { LIMITS } from './limits.js';

type Bytes = Uint8Array;

const at = (b: Bytes, offset: number, ...expected: number[]) =>
  b.length >= offset + expected.length && expected.every((x, i) => b[offset + i] === x);
const ascii = (b: Bytes, offset: number, text: string) =>
  at(b, offset, ...Array.from(text, (c) => c.charCodeAt(0)));
const u16be = (b: Bytes, o: number) => (b[o]! << 8) | b[o + 1]!;
const u16le = (b: Bytes, o: number) => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Bytes, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
const u32be = (b: Bytes, o: number) =>
  ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;

const isPng = (b: Bytes) => at(b, 0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const isJpeg = (b: Bytes) => at(b, 0, 0xff, 0xd8, 0xff);
const isGif = (b: Bytes) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a');
const isWebp = (b: Bytes) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP');
const isZip = (b: Bytes) => at(b, 0, 0x50, 0x4b, 0x03, 0x04) || at(b, 0, 0x50, 0x4b, 0x05, 0x06);
const isPdf = (b: Bytes) => {
  // "%PDF-" may follow a little junk; readers look in the first 1024 bytes.
  const end = Math.min(b.length, 1024) - 5;
  for (let i = 0; i <= end; i++) if (ascii(b, i, '%PDF-')) return true;
  return false;
};

/**
 * Declared types whose content has a signature to check; a file declared as one of them
 * must start with it (else the type lies about itself). Types not listed (text, generic
 * binary, anything new) have nothing to check and are accepted as declared; they are
 * always served as downloads anyway.
 */
const SIGNATURES: Readonly<Record<string, (b: Bytes) => boolean>> = {
  'image/png': isPng,
  'image/jpeg': isJpeg,
  'image/gif': isGif,
  'image/webp': isWebp,
  'application/pdf': isPdf,
  'application/zip': isZip,
  'application/epub+zip': isZip,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': isZip,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': isZip,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': isZip,
  'application/vnd.oasis.opendocument.text': isZip,
  'application/vnd.oasis.opendocument.spreadsheet': isZip,
  'application/gzip': (b) => at(b, 0, 0x1f, 0x8b),
  'application/x-7z-compressed': (b) => at(b, 0, 0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c),
  'audio/mpeg': (b) => ascii(b, 0, 'ID3') || (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0),
  'audio/ogg': (b) => ascii(b, 0, 'OggS'),
  'video/ogg': (b) => ascii(b, 0, 'OggS'),
  'audio/flac': (b) => ascii(b, 0, 'fLaC'),
  'audio/wav': (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE'),
  'video/mp4': (b) => ascii(b, 4, 'ftyp'),
  'audio/mp4': (b) => ascii(b, 4, 'ftyp'),
  'video/quicktime': (b) => ascii(b, 4, 'ftyp') || ascii(b, 4, 'moov') || ascii(b, 4, 'wide'),
  'video/webm': (b) => at(b, 0, 0x1a, 0x45, 0xdf, 0xa3),
};

/** Whether the first bytes of a file agree with its declared (normalized) media type. */
export function matchesDeclaredType(type: string, prefix: Bytes): boolean {
  const check = Object.hasOwn(SIGNATURES, type) ? SIGNATURES[type] : undefined;
  return check ? check(prefix) : true;
}

export interface ImageInfo {
  type: InlineImageType;
  width: number;
  height: number;
}

function pngSize(b: Bytes): [number, number] | null {
  // Signature, then the IHDR chunk: length (4), "IHDR", width (4), height (4).
  if (b.length < 24 || !ascii(b, 12, 'IHDR')) return null;
  return [u32be(b, 16), u32be(b, 20)];
}

function gifSize(b: Bytes): [number, number] | null {
  return b.length < 10 ? null : [u16le(b, 6), u16le(b, 8)];
}

function webpSize(b: Bytes): [number, number] | null {
  if (ascii(b, 12, 'VP8 ') && b.length >= 30) {
    // Lossy: a key frame starts with 9D 01 2A, then 14-bit width and height.
    if (!at(b, 23, 0x9d, 0x01, 0x2a)) return null;
    return [u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff];
  }
  if (ascii(b, 12, 'VP8L') && b.length >= 25) {
    if (b[20] !== 0x2f) return null;
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (ascii(b, 12, 'VP8X') && b.length >= 30) return [u24le(b, 24) + 1, u24le(b, 27) + 1];
  return null;
}

function jpegSize(b: Bytes): [number, number] | null {
  // Walk the marker segments to the first start-of-frame (SOF0-SOF15 but DHT C4, JPG C8, DAC CC).
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2; // markers without a length
      continue;
    }
    const length = u16be(b, o + 2);
    if (length < 2) return null;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 9 > b.length) return null;
      return [u16be(b, o + 7), u16be(b, o + 5)];
    }
    if (marker === 0xda || marker === 0xd9) return null; // image data or end before a frame header
    o += 2 + length;
  }
  return null;
}

/**
 * The type and pixel size of an inline image from its first bytes (`declared` must be one
 * of `INLINE_IMAGE_TYPES`); `null` when the bytes are not that type or its size is not in
 * the prefix, or a side is 0.
 */
export function sniffImage(declared: string, prefix: Bytes): ImageInfo | null {
  if (!isInlineImageType(declared) || !matchesDeclaredType(declared, prefix)) return null;
  const size =
    declared === 'image/png'
      ? pngSize(prefix)
      : declared === 'image/gif'
        ? gifSize(prefix)
        : declared === 'image/webp'
          ? webpSize(prefix)
          : jpegSize(prefix);
  if (!size || size[0] === 0 || size[1] === 0) return null;
  return { type: declared, width: size[0], height: size[1] };
}

/**
 * Whether an inline image is small enough to be decoded by every client: at most
 * `LIMITS.imageMaxSide` pixels a side and `LIMITS.imageMaxPixels` in all (a 25 MB PNG can
 * hold a 30,000 × 30,000 picture that takes gigabytes to decode). Else `image_too_large`.
 */
export function imageFits(image: Pick<ImageInfo, 'width' | 'height'>): boolean {
  return (
    image.width <= LIMITS.imageMaxSide &&
    image.height <= LIMITS.imageMaxSide &&
    image.width * image.height <= LIMITS.imageMaxPixels
  );
}
