/** The protocol version this package speaks; `hello.v` and `welcome.v` carry it. */
export const PROTOCOL_VERSION = 1;

/**
 * Every limit of PROTOCOL.md, in one place. Lengths of bodies and passwords are UTF-16
 * code units (JavaScript's `string.length`), as the spec counts them.
 */
export const LIMITS = {
  /** Largest WebSocket message payload in bytes; a larger one closes the connection with 1009. */
  maxPayloadBytes: 65_536,
  /** `send.body`: 1 to this many UTF-16 code units; longer is `too_large`. */
  bodyMaxLength: 4000,
  /** User ids: 1 to this many of `a-z 0-9 _ . -` (after ASCII lowercasing). */
  userIdMaxLength: 32,
  /** Message ids chosen by the client: 1 to this many of `A-Z a-z 0-9 _ -`. */
  messageIdMaxLength: 64,
  /** `rid` on `history`, `conversations` and `ping`: a string of 1 to this many characters. */
  ridMaxLength: 64,
  /** Cursors this package accepts in `ack` and `history.before` (servers issue far shorter ones). */
  cursorMaxLength: 64,
  /** `history.limit`: an integer in 1..historyMaxLimit; default historyDefaultLimit. */
  historyMaxLimit: 100,
  historyDefaultLimit: 50,
  /** `presence.users`: 1 to this many ids. */
  presenceMaxUsers: 200,
  /** Passwords at register: this many UTF-16 code units, inclusive. */
  passwordMinLength: 8,
  passwordMaxLength: 256,
  /** The first frame must be `hello` within this many milliseconds, else close 4002. */
  helloTimeoutMs: 10_000,
  /** More than this many `bad_frame` errors within `badFrameWindowMs` closes 4008. */
  badFrameMaxCount: 100,
  badFrameWindowMs: 10_000,
  /** The server pings every connection this often and drops one that missed the last ping. */
  pingIntervalMs: 30_000,

  // ------------------------------------------------------------ extensions (PROTOCOL.md part 2)
  /** `hello.features`: only this many leading entries are looked at; later ones are ignored. */
  helloFeaturesMax: 32,
  /** `conversations.limit` with `paging`: an integer in 1..conversationsMaxLimit; default conversationsDefaultLimit. */
  conversationsMaxLimit: 100,
  conversationsDefaultLimit: 50,
  /** A version-1 `conversations` answer holds at most the newest this many rows. */
  conversationsV1MaxRows: 200,
  /**
   * UTF-8 bytes of one `history` or `conversations` answer: items stop being added before
   * the encoded frame would pass this, though the first item is always sent.
   */
  answerMaxBytes: 1_048_576,
  /** The server forwards at most one `typing` per sender→recipient per this many milliseconds. */
  typingIntervalMs: 2_000,
  /**
   * `presence` subscriptions per connection: a bucket of presenceBurst that refills one
   * every presenceIntervalMs. A subscription beyond it is applied late, not refused.
   */
  presenceBurst: 5,
  presenceIntervalMs: 2_000,
  /** After a close 4029 a client waits at least this long before reconnecting. */
  tooManyBackoffMs: 5_000,
  /**
   * A revoked token's open connections are closed 4001 at once on the node that revoked it,
   * and within this many milliseconds on the others (they re-check at their ping).
   */
  revokedCloseMs: 30_000,
  /** Error messages quote at most this many characters of what the client sent. */
  echoMaxLength: 64,

  // ------------------------------------------------------------ chat features (issue 10)
  /** `edit` and `delete` are allowed until this many milliseconds after the message's `ts`, inclusive. */
  editWindowMs: 15 * 60 * 1000,
  /** A reply's quote carries at most this many UTF-16 units of the original's body (then "…"). */
  quoteMaxLength: 200,
  /** A reaction emoji: 1 to this many UTF-16 units. */
  reactionMaxLength: 32,
  /** A user may block at most this many users. */
  blockedMax: 1000,
  /** `search.q`: 1 to this many UTF-16 units; only its first searchMaxTerms terms are used. */
  searchQueryMaxLength: 200,
  searchMaxTerms: 10,
  /** `search.limit`: an integer in 1..searchMaxLimit; default searchDefaultLimit. */
  searchMaxLimit: 50,
  searchDefaultLimit: 20,
  /** Highlight ranges per search result, at most. */
  searchMaxHighlights: 32,

  // ------------------------------------------------------------ attachments (issue 12)
  /** Files one message may carry. */
  filesPerMessage: 10,
  /** A file name: 1 to this many UTF-16 units. */
  fileNameMaxLength: 255,
  /** A declared media type (`type/subtype`, after dropping parameters): at most this many characters. */
  fileTypeMaxLength: 100,
  /** A placeholder `data:` URL: at most this many characters. */
  thumbMaxLength: 2048,
  /** The server checks magic bytes and reads image sizes in this many leading bytes of an upload. */
  sniffBytes: 262_144,
  /** An inline image may be at most this many pixels on a side and this many in all. */
  imageMaxSide: 16_384,
  imageMaxPixels: 50_000_000,
  /**
   * Defaults of the server's PIGEON_FILE_MAX and PIGEON_FILE_QUOTA in bytes: 25 MB and 1 GB
   * in the decimal units `formatFileSize` shows. The server's errors say its own values.
   */
  fileMaxBytesDefault: 25_000_000,
  fileQuotaBytesDefault: 1_000_000_000,
} as const;

export const USER_ID_PATTERN = /^[a-z0-9_.-]{1,32}$/;
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
