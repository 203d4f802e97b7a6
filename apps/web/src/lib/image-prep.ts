import { isThumb, LIMITS } from '@pigeon/protocol';
import { DEFAULTS } from '../config';

/**
 * Photos are drawn anew before they leave the browser: re-encoding through a canvas keeps the
 * pixels and nothing else, so EXIF (the location above all), XMP and comments are gone; the
 * EXIF orientation is applied first (`imageOrientation: 'from-image'`), so nothing turns
 * sideways. Large ones are scaled to DEFAULTS.imageMaxSide on their longer side. A GIF is
 * kept as it is (drawing it would stop its animation; GIF has no EXIF), and so is an image
 * the browser cannot decode.
 */
export interface PreparedImage {
  blob: Blob;
  type: string;
  name: string;
  width: number;
  height: number;
  /** A tiny placeholder shown while the real image loads (`data:image/jpeg;base64,…`). */
  thumb: string | undefined;
}

/** The types drawn anew (and their encoder quality); other images travel unchanged. */
const REDRAWN: Record<string, number | undefined> = {
  'image/jpeg': 0.9,
  'image/png': undefined,
  'image/webp': 0.9,
};
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

function canvas(width: number, height: number): HTMLCanvasElement | OffscreenCanvas {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}

function encode(
  c: HTMLCanvasElement | OffscreenCanvas,
  type: string,
  quality?: number,
): Promise<Blob | null> {
  if ('convertToBlob' in c) return c.convertToBlob({ type, quality }).catch(() => null);
  return new Promise((resolve) => c.toBlob(resolve, type, quality));
}

function draw(
  bitmap: ImageBitmap,
  width: number,
  height: number,
): HTMLCanvasElement | OffscreenCanvas | null {
  const c = canvas(width, height);
  const ctx = c.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) return null;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  return c;
}

/** `width`×`height` scaled so that the longer side is at most `max`. */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function dataUrl(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type};base64,${btoa(binary)}`;
}

/** The placeholder: the image at a few pixels, as small a JPEG as fits the protocol's limit. */
async function makeThumb(bitmap: ImageBitmap): Promise<string | undefined> {
  for (const [side, quality] of [
    [DEFAULTS.thumbSide, 0.6],
    [Math.round(DEFAULTS.thumbSide / 2), 0.5],
  ] as const) {
    const { width, height } = fitWithin(bitmap.width, bitmap.height, side);
    const c = draw(bitmap, width, height);
    const blob = c && (await encode(c, 'image/jpeg', quality));
    if (blob?.type !== 'image/jpeg') continue;
    const url = await dataUrl(blob);
    if (url.length <= LIMITS.thumbMaxLength && isThumb(url)) return url;
  }
  return undefined;
}

function renamed(name: string, type: string): string {
  const ext = EXTENSIONS[type];
  if (!ext) return name;
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  return `${base}.${ext}`;
}

/**
 * Prepares a photo for sending (see above). Returns null when the browser cannot decode it:
 * the caller then sends the file as it is.
 */
export async function prepareImage(file: Blob, name: string): Promise<PreparedImage | null> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return null;
  }
  try {
    const thumb = await makeThumb(bitmap);
    const type = file.type;
    if (!(type in REDRAWN)) {
      return { blob: file, type, name, width: bitmap.width, height: bitmap.height, thumb };
    }
    const { width, height } = fitWithin(bitmap.width, bitmap.height, DEFAULTS.imageMaxSide);
    const c = draw(bitmap, width, height);
    const blob = c && (await encode(c, type, REDRAWN[type]));
    if (!blob) return null;
    // A browser without that encoder answers PNG: the declared type follows what it made.
    const made = blob.type || type;
    return { blob, type: made, name: made === type ? name : renamed(name, made), width, height, thumb };
  } finally {
    bitmap.close();
  }
}
