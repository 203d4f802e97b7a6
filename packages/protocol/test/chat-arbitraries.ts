// Arbitraries of the chat features' frames (issue 10).
import fc from 'fast-check';
import type { ClientFrame, MsgFrame, ServerFrame, UpdateFrame } from '../src/index.js';
import {
  bodyArb,
  cursorArb,
  messageIdArb,
  msgArb,
  ridArb,
  tsArb,
  userIdArb,
} from './primitive-arbitraries.js';

/** Valid reactions: single, skin tone, flag, keycap, tag sequence, ZWJ sequences, text-default with VS16. */
export const EMOJI = [
  '😀',
  '👍',
  '👍🏽',
  '❤️',
  '🇫🇷',
  '1️⃣',
  '#️⃣',
  '🏴󠁧󠁢󠁳󠁣󠁴󠁿',
  '🏳️‍🌈',
  '👩🏽‍💻',
  '👩🏽‍❤️‍💋‍👨🏿',
  '🫠',
  '©️',
];
const emojiArb = fc.constantFrom(...EMOJI);

const replyQuoteArb = fc.record(
  {
    from: userIdArb,
    id: messageIdArb,
    cursor: cursorArb,
    body: fc.string({ maxLength: 200 }),
    deleted: fc.constant(true as const),
  },
  { requiredKeys: ['from', 'id'] },
);

/** Attachments as a message carries them. */
const fileInfoArb = fc.record(
  {
    id: messageIdArb,
    name: fc.constantFrom('report.pdf', 'IMG_0001.jpg', '中文.txt', 'a'),
    type: fc.constantFrom('application/pdf', 'image/jpeg', 'text/plain'),
    size: fc.integer({ min: 1, max: 25_000_000 }),
    width: fc.integer({ min: 1, max: 16_384 }),
    height: fc.integer({ min: 1, max: 16_384 }),
    thumb: fc.constant('data:image/webp;base64,UklGRg=='),
  },
  { requiredKeys: ['id', 'name', 'type', 'size'] },
);

/** A message with any of the features' fields: what a client with every feature may receive. */
export const fullMsgArb: fc.Arbitrary<MsgFrame> = fc
  .tuple(
    msgArb,
    fc.record(
      {
        read: fc.boolean(),
        edited: tsArb,
        deleted: fc.constant(true as const),
        replyTo: replyQuoteArb,
        reactions: fc.array(fc.record({ by: userIdArb, emoji: emojiArb }), { minLength: 1, maxLength: 2 }),
        files: fc.array(fileInfoArb, { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([m, extra]) => ({ ...m, ...extra }));

const refArb = { from: userIdArb, id: messageIdArb };
const opt = { requiredKeys: ['t', 'from', 'id'] as ('t' | 'from' | 'id')[] };
/** Search queries: words, CJK runs, mixed case and punctuation; at least one word. */
const queryArb = fc
  .tuple(
    fc.array(fc.constantFrom('hello', 'Wörld', 'naïve', '中文', 'カタカナ', '한국어', 'x', '42', 'ÉCLAIR'), {
      minLength: 1,
      maxLength: 5,
    }),
    fc.constantFrom(' ', ', ', '  ', '-', '?'),
  )
  .map(([words, sep]) => words.join(sep));

/** Client frames of the chat features; decoded with those features they round-trip. */
export const chatClientFrameArb: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record(
    { t: fc.constant('read' as const), with: userIdArb, upto: cursorArb, rid: ridArb },
    { requiredKeys: ['t', 'with', 'upto'] },
  ),
  fc.record(
    { t: fc.constant('receipts' as const), on: fc.boolean(), rid: ridArb },
    { requiredKeys: ['t', 'on'] },
  ),
  fc.record({ t: fc.constant('settings' as const), rid: ridArb }, { requiredKeys: ['t'] }),
  fc.record(
    { t: fc.constant('edit' as const), ...refArb, body: bodyArb, rid: ridArb },
    { requiredKeys: ['t', 'from', 'id', 'body'] },
  ),
  fc.record({ t: fc.constant('delete' as const), ...refArb, rid: ridArb }, opt),
  fc.record({ t: fc.constant('hide' as const), ...refArb, rid: ridArb }, opt),
  fc.record(
    { t: fc.constant('react' as const), ...refArb, emoji: fc.option(emojiArb, { nil: null }), rid: ridArb },
    { requiredKeys: ['t', 'from', 'id', 'emoji'] },
  ),
  fc.record(
    { t: fc.constantFrom('block' as const, 'unblock' as const), user: userIdArb, rid: ridArb },
    { requiredKeys: ['t', 'user'] },
  ),
  fc.record(
    {
      t: fc.constant('search' as const),
      q: queryArb,
      with: userIdArb,
      before: cursorArb,
      limit: fc.integer({ min: 1, max: 50 }),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'q'] },
  ),
  fc.record({
    t: fc.constant('send' as const),
    id: messageIdArb,
    to: userIdArb,
    body: bodyArb,
    replyTo: fc.record(refArb),
  }),
  fc.record({
    t: fc.constant('send' as const),
    id: messageIdArb,
    to: userIdArb,
    body: fc.oneof(fc.constant(''), bodyArb),
    files: fc.uniqueArray(messageIdArb, { minLength: 1, maxLength: 10 }),
  }),
);

const updateBase = { t: fc.constant('update' as const), cursor: cursorArb, ts: tsArb };
const aboutMsg = { ...updateBase, ...refArb, with: userIdArb };
export const updateArb: fc.Arbitrary<UpdateFrame> = fc.oneof(
  fc.record({
    ...updateBase,
    kind: fc.constant('read' as const),
    with: userIdArb,
    upto: cursorArb,
    unread: fc.nat(),
  }),
  fc.record({ ...updateBase, kind: fc.constant('seen' as const), with: userIdArb, upto: cursorArb }),
  fc.record({ ...updateBase, kind: fc.constant('settings' as const), readReceipts: fc.boolean() }),
  fc.record({ ...aboutMsg, kind: fc.constant('edit' as const), body: bodyArb }),
  fc.record({ ...aboutMsg, kind: fc.constant('delete' as const) }),
  fc.record({ ...aboutMsg, kind: fc.constant('hide' as const) }),
  fc.record({
    ...aboutMsg,
    kind: fc.constant('react' as const),
    by: userIdArb,
    emoji: fc.option(emojiArb, { nil: null }),
  }),
  fc.record({ ...updateBase, kind: fc.constant('block' as const), user: userIdArb, blocked: fc.boolean() }),
);

const rangeArb = fc.tuple(fc.nat(4000), fc.nat(100)).map(([a, n]): [number, number] => [a, a + n]);

/** The chat features' answers: ok, settings, search. */
export const chatServerFrameArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ t: fc.constant('ok' as const), rid: ridArb }),
  fc.record(
    {
      t: fc.constant('settings' as const),
      readReceipts: fc.boolean(),
      blocked: fc.uniqueArray(userIdArb, { maxLength: 5 }),
      rid: ridArb,
    },
    { requiredKeys: ['t'] },
  ),
  fc.record(
    {
      t: fc.constant('search' as const),
      items: fc.array(fc.record({ msg: fullMsgArb, highlights: fc.array(rangeArb, { maxLength: 4 }) }), {
        maxLength: 4,
      }),
      more: fc.boolean(),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'items', 'more'] },
  ),
);
