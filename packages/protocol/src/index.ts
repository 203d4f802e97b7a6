export type { FrameErrorCode } from './codes.js';
export { CloseCode, ErrorCode } from './codes.js';
export type { HelloResult } from './decode.js';
export { decodeClientFrame, decodeHello, decodeServerFrame } from './decode.js';
export { encode } from './encode.js';
export type * from './frames.js';
export { isMessageId, isUserId, normalizeUserId, parseUserId } from './ids.js';
export { LIMITS, MESSAGE_ID_PATTERN, PROTOCOL_VERSION, USER_ID_PATTERN } from './limits.js';
export type { DecodeError, DecodeResult } from './result.js';
