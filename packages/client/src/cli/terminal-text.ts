// Text from the server (bodies, ids, error messages, close reasons) is printed on a terminal,
// where control characters are commands: ESC starts sequences that move the cursor, recolour,
// set the window title or (in some terminals) write files; BEL rings; CR and LF forge lines
// that look like other messages; C1 controls (U+0080-U+009F) are 8-bit ESC sequences in some
// terminals; bidi overrides and isolates reorder what is shown ("Trojan Source"). All of them
// are shown escaped, visibly, and a backslash is doubled so the escaping is unambiguous.
// TAB stays: it can only move to the next tab stop.

/** C0 but TAB, DEL, C1, the bidi embeddings/overrides/isolates, the Unicode line/paragraph separators, and backslash. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job.
const UNSAFE_TEXT = /[\\\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** What JSON.stringify leaves raw inside strings and a terminal would still act on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0');
}

/** For text lines: `a\nb` prints as `a\nb` on one line, ESC as `\e`, other controls as `\xNN` / `\u{NNNN}`. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_TEXT, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${hex(c, 2)}` : `\\u{${hex(c, 4)}}`;
  });
}

/** JSON.stringify, with the controls it leaves raw escaped as `\uNNNN` (the same JSON value). */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
