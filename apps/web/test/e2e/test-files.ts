import type { Page } from 'playwright-core';

/**
 * Test files: a JPEG drawn by the browser's own encoder, with an EXIF block holding a GPS
 * position spliced in after its start-of-image marker, as a phone camera writes one; PDFs
 * (one of an exact size, for the server's limit); a PNG as a screenshot is.
 */

/** A JPEG of `width`×`height` (a gradient, so it is a real picture) made in the page. */
export async function drawnJpeg(page: Page, width: number, height: number): Promise<Buffer> {
  const bytes = await page.evaluate(
    async ([w, h]) => {
      const c = new OffscreenCanvas(w, h);
      const ctx = c.getContext('2d')!;
      // An evening sky, a sun and a skyline: a picture with real detail for the encoder.
      const g = ctx.createLinearGradient(0, 0, 0, h);
      g.addColorStop(0, '#23486b');
      g.addColorStop(0.6, '#f2a65a');
      g.addColorStop(1, '#f7d488');
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#ffe7a3';
      ctx.beginPath();
      ctx.arc(w * 0.7, h * 0.55, Math.min(w, h) * 0.12, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#1d2a33';
      for (let x = 0, i = 0; x < w; x += w / 14, i++) {
        const top = h * (0.62 + ((i * 37) % 23) / 100);
        ctx.fillRect(x, top, w / 15, h - top);
      }
      const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height] as const,
  );
  return Buffer.from(bytes);
}

/** An EXIF TIFF (big-endian) with one IFD0 entry pointing at a GPS IFD: latitude N 48° 51′ 0″. */
function gpsTiff(): Buffer {
  const tiff = Buffer.alloc(80);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 at 8
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x8825, 10); // GPSInfo
  tiff.writeUInt16BE(4, 12); // LONG
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt32BE(26, 18); // GPS IFD at 26
  tiff.writeUInt32BE(0, 22); // no next IFD
  tiff.writeUInt16BE(2, 26); // two GPS entries
  tiff.writeUInt16BE(0x0001, 28); // GPSLatitudeRef
  tiff.writeUInt16BE(2, 30); // ASCII
  tiff.writeUInt32BE(2, 32);
  tiff.write('N\0', 36, 'latin1');
  tiff.writeUInt16BE(0x0002, 40); // GPSLatitude
  tiff.writeUInt16BE(5, 42); // RATIONAL
  tiff.writeUInt32BE(3, 44);
  tiff.writeUInt32BE(56, 48); // its values at 56
  tiff.writeUInt32BE(0, 52); // no next IFD
  for (const [i, [num, den]] of [
    [48, 1],
    [51, 1],
    [0, 1],
  ].entries()) {
    tiff.writeUInt32BE(num!, 56 + i * 8);
    tiff.writeUInt32BE(den!, 60 + i * 8);
  }
  return tiff;
}

/** `jpeg` with an EXIF block (APP1 holding `tiff`) right after its SOI marker. */
function withExif(jpeg: Buffer, tiff: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, body, jpeg.subarray(2)]);
}

/** The JPEG with the GPS EXIF block right after its SOI marker. */
export function withGps(jpeg: Buffer): Buffer {
  return withExif(jpeg, gpsTiff());
}

/**
 * The JPEG with an EXIF block saying how to turn it (tag 0x0112; 6 = turn 90° clockwise to
 * show), as a phone held upright writes: its pixels are stored sideways.
 */
export function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 at 8
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18); // the value, left-aligned in its 4 bytes
  tiff.writeUInt32BE(0, 22); // no next IFD
  return withExif(jpeg, tiff);
}

/** Whether the bytes carry an EXIF block or a GPSInfo tag anywhere. */
export function hasGps(bytes: Buffer): boolean {
  return (
    bytes.includes(Buffer.from('Exif\0\0', 'latin1')) || bytes.includes(Buffer.from([0x88, 0x25, 0x00, 0x04]))
  );
}

/** A small but real PDF (the server checks the `%PDF-` signature of a declared PDF). */
export function pdf(text: string): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n% ${text}\ntrailer<</Root 1 0 R>>\n%%EOF\n`,
    'latin1',
  );
}

/**
 * A PDF of exactly `size` bytes (at least 16): its signature, a comment line filling the
 * middle, its end marker. Enough for the server's check of a declared PDF (`%PDF-`).
 */
export function pdfOfSize(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n%', 'latin1');
  const tail = Buffer.from('\n%%EOF\n', 'latin1');
  if (size < head.length + tail.length)
    throw new Error(`a PDF needs at least ${head.length + tail.length} bytes`);
  return Buffer.concat([head, Buffer.alloc(size - head.length - tail.length, 'x'), tail]);
}

/** A PNG made in the page (what a screenshot on the clipboard is). */
export async function pngOf(page: Page): Promise<Buffer> {
  const bytes = await page.evaluate(async () => {
    const c = new OffscreenCanvas(300, 200);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#3fae8f';
    ctx.fillRect(0, 0, 300, 200);
    return [...new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer())];
  });
  return Buffer.from(bytes);
}

/**
 * A GIF of 200×100 (its logical screen) holding one 1×1 white frame: small enough to write by
 * hand, real enough for the server's check and the browser's decoder.
 */
export function gif200x100(): Buffer {
  const parts = [
    '474946383961', // GIF89a
    'c8006400', // logical screen 200 × 100
    '800000', // a global colour table of 2 entries follows
    'ffffff000000',
    '2c0000000001000100' + '00', // a 1×1 frame at 0,0
    '0202440100', // its LZW data
    '3b', // end
  ];
  return Buffer.from(parts.join(''), 'hex');
}

/** A WebP of `width`×`height` made by the page's own encoder. */
export async function drawnWebp(page: Page, width: number, height: number): Promise<Buffer> {
  const bytes = await page.evaluate(
    async ([w, h]) => {
      const c = new OffscreenCanvas(w, h);
      const ctx = c.getContext('2d')!;
      ctx.fillStyle = '#6a4c93';
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#f4d35e';
      ctx.fillRect(w / 4, h / 4, w / 2, h / 2);
      const blob = await c.convertToBlob({ type: 'image/webp', quality: 0.8 });
      if (blob.type !== 'image/webp') throw new Error(`this browser encodes ${blob.type}, not WebP`);
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height] as const,
  );
  return Buffer.from(bytes);
}
