/**
 * The `Range`, `If-Range` and `If-None-Match` rules of file downloads (PROTOCOL.md "Files:
 * Download", after RFC 9110 §13-14), as pure functions of the header values.
 */

export type RangeAnswer =
  /** 200 with the whole file (no Range, one we do not serve, or several ranges). */
  | { kind: 'full' }
  /** 206 with bytes start..end (inclusive). */
  | { kind: 'partial'; start: number; end: number }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const ONE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/**
 * What to send for a `Range` header on a file of `size` bytes (size ≥ 1). One range
 * (`A-B`, `A-`, `-N`) is served; several are answered with the whole file (allowed, and
 * it spares building multipart bodies); a malformed one is ignored, as RFC 9110 says.
 */
export function rangeFor(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'full' };
  const value = header.trim();
  if (value.includes(',')) return { kind: 'full' };
  const m = ONE_RANGE.exec(value);
  if (!m) return { kind: 'full' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    // The last N bytes; "-0" asks for nothing, which no file can give.
    const n = Number(b);
    if (n === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  // "5-1" is not a range at all (ignored); a start past the end is one no file can give.
  if (b !== '' && Number(b) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

/**
 * Whether a `Range` may be honoured given `If-Range`: only when it names this exact
 * (strong) ETag; a date or another tag means "send it all".
 */
export function ifRangeAllows(ifRange: string | undefined, etag: string): boolean {
  return ifRange === undefined || ifRange.trim() === etag;
}

/** Whether `If-None-Match` matches `etag` (weak comparison, `*` included): then 304. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}
