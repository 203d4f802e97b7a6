import fc from 'fast-check';
import { type ClientFrame, ErrorCode, type ServerFrame } from '../src/index.js';
import { chatClientFrameArb, chatServerFrameArb, fullMsgArb, updateArb } from './chat-arbitraries.js';
import {
  bodyArb,
  cursorArb,
  featuresArb,
  messageIdArb,
  msgArb,
  ridArb,
  tsArb,
  userIdArb,
} from './primitive-arbitraries.js';

export * from './chat-arbitraries.js';
export * from './primitive-arbitraries.js';

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
export const anyClientFrameArb: fc.Arbitrary<ClientFrame> = fc.oneof(
  clientFrameArb,
  pagingClientFrameArb,
  chatClientFrameArb,
);

const headArb = fc.option(cursorArb, { nil: null });

export const serverFrameArb: fc.Arbitrary<ServerFrame> = fc.oneof(
  fullMsgArb,
  updateArb,
  chatServerFrameArb,
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
      items: fc.array(fullMsgArb, { maxLength: 5 }),
      more: fc.boolean(),
      rid: ridArb,
    },
    { requiredKeys: ['t', 'with', 'items', 'more'] },
  ),
  fc.record(
    {
      t: fc.constant('conversations' as const),
      items: fc.array(
        fc.record(
          {
            with: userIdArb,
            last: fullMsgArb,
            unread: fc.nat(),
            readUpto: fc.option(cursorArb, { nil: null }),
          },
          { requiredKeys: ['with', 'last'] },
        ),
        { maxLength: 5 },
      ),
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
