export { PROTOCOL_VERSION, LIMITS, USER_ID_PATTERN, MESSAGE_ID_PATTERN } from './limits.js';
export { ErrorCode, CloseCode } from './codes.js';
export type { FrameErrorCode } from './codes.js';
export { normalizeUserId, isUserId, parseUserId, isMessageId } from './ids.js';
export type * from './frames.js';
export type { DecodeError, DecodeResult } from './result.js';
export { decodeClientFrame, decodeServerFrame, decodeHello } from './decode.js';
export type { HelloResult } from './decode.js';
export { encode } from './encode.js';
