import fc from 'fast-check';
import { type ClientFrame, ErrorCode, FEATURES, type MsgFrame, type ServerFrame } from '../src/index.js';

export const userIdArb = fc.stringMatching(/^[a-z0-9_.-]{1,32}$/);
export const messageIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
export const cursorArb = fc.string({ minLength: 1, maxLength: 64 });
export const ridArb = fc.string({ minLength: 1, maxLength: 64 });
/** Bodies in UTF-16 units: any code points, including astral ones (two units each). */
export const bodyArb = fc
  .string({ minLength: 1, maxLength: 2000, unit: 'binary' })
  .filter((s) => s.length >= 1 && s.length <= 4000);
const tsArb = fc.integer({ min: 0, max: 2 ** 48 });

export const msgArb: fc.Arbitrary<MsgFrame> = fc.record({
  t: fc.constant('msg' as const),
  cursor: cursorArb,
  id: messageIdArb,
  from: userIdArb,
  to: userIdArb,
  body: bodyArb,
  ts: tsArb,
  delivered: fc.boolean(),
});

/** A feature list as the decoders return it: known names, once each, in FEATURES order. */
export const featuresArb = fc.subarray([...FEATURES]);

/** Version-1 client frames: what every connection may send. */
export const clientFrameArb: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record(
    {
      t: fc.constant('hello' as const),
      v: fc.constant(1 as const),
      token: fc.string({ minLength: 1 }),
      since: fc.string(),
      features: featuresArb,
    },
    { requiredKeys: ['t', 'v', 'token'] },
  ),
  fc.record({ t: fc.constant('send' as const), id: messageIdArb, to: userIdArb, body: bodyArb }),
  fc.record({ t: fc.constant('ack' as const), cursor: cursorArb }),
  fc.record(
    {
      t: fc.constant('history' as const),
      with: userIdArb,
      before: cursorArb,
      limit: fc.integer({ min: 1, max: 100 }),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'with'] },
  ),
  fc.record({ t: fc.constant('conversations' as const), rid: ridArb }, { requiredKeys: ['t'] }),
  fc.record({ t: fc.constant('typing' as const), to: userIdArb }),
  fc.record({
    t: fc.constant('presence' as const),
    users: fc.array(userIdArb, { minLength: 1, maxLength: 200 }),
  }),
  fc.record({ t: fc.constant('ping' as const), rid: ridArb }, { requiredKeys: ['t'] }),
);

/** Client frames with the fields `paging` adds; decoded with `paging` they round-trip. */
export const pagingClientFrameArb: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record(
    {
      t: fc.constant('conversations' as const),
      limit: fc.integer({ min: 1, max: 100 }),
      before: cursorArb,
      rid: ridArb,
    },
    { requiredKeys: ['t'] },
  ),
  fc.record(
    {
      t: fc.constant('history' as const),
      with: userIdArb,
      after: cursorArb,
      limit: fc.integer({ min: 1, max: 100 }),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'with'] },
  ),
);

/** Every client frame a connection with every feature may send. */
export const anyClientFrameArb: fc.Arbitrary<ClientFrame> = fc.oneof(clientFrameArb, pagingClientFrameArb);

const headArb = fc.option(cursorArb, { nil: null });

export const serverFrameArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    t: fc.constant('welcome' as const),
    v: fc.constant(1 as const),
    user: userIdArb,
    head: headArb,
  }),
  fc.record({
    t: fc.constant('welcome' as const),
    v: fc.constant(1 as const),
    user: userIdArb,
    head: headArb,
    features: featuresArb,
  }),
  fc.record({ t: fc.constant('synced' as const), head: headArb, gap: fc.boolean() }),
  fc.record({ t: fc.constant('sent' as const), id: messageIdArb, ts: tsArb }),
  msgArb,
  fc.record({ t: fc.constant('receipt' as const), id: messageIdArb, to: userIdArb }),
  fc.record(
    {
      t: fc.constant('history' as const),
      with: userIdArb,
      items: fc.array(msgArb, { maxLength: 5 }),
      more: fc.boolean(),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'with', 'items', 'more'] },
  ),
  fc.record(
    {
      t: fc.constant('conversations' as const),
      items: fc.array(fc.record({ with: userIdArb, last: msgArb }), { maxLength: 5 }),
      more: fc.boolean(),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'items'] },
  ),
  fc.record({ t: fc.constant('typing' as const), from: userIdArb }),
  fc.record({ t: fc.constant('presence' as const), user: userIdArb, online: fc.boolean() }),
  fc.record({ t: fc.constant('pong' as const), rid: ridArb }, { requiredKeys: ['t'] }),
  fc.record(
    {
      t: fc.constant('error' as const),
      code: fc.constantFrom(...Object.values(ErrorCode)),
      message: fc.string(),
      id: messageIdArb,
      rid: ridArb,
      retryAfterMs: fc.integer({ min: 0, max: 60_000 }),
    },
    { requiredKeys: ['t', 'code', 'message'] },
  ),
);
