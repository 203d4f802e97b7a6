export type * from './chat-frames.js';
export type { SearchTerm } from './chat-text.js';
export { foldWord, isReactionEmoji, quoteBody, searchHighlights, searchTerms } from './chat-text.js';
export type { FrameErrorCode } from './codes.js';
export { CloseCode, ErrorCode, HttpErrorCode, TooManyReason } from './codes.js';
export type { HelloResult } from './decode.js';
export { decodeClientFrame, decodeHello, decodeServerFrame } from './decode.js';
export { encode } from './encode.js';
export type { Feature, FeatureSet } from './features.js';
export { FEATURES, isFeature, NO_FEATURES, parseHelloFeatures } from './features.js';
export type { ImageInfo } from './file-sniff.js';
export { imageFits, matchesDeclaredType, sniffImage } from './file-sniff.js';
export type { FileInfo, InlineImageType } from './files.js';
export {
  contentDisposition,
  fallbackBody,
  fileLine,
  formatFileSize,
  INLINE_IMAGE_TYPES,
  isFileName,
  isInlineImageType,
  isSha256,
  isThumb,
  parseMediaType,
} from './files.js';
export type * from './frames.js';
export { isMessageId, isUserId, normalizeUserId, parseUserId } from './ids.js';
export { LIMITS, MESSAGE_ID_PATTERN, PROTOCOL_VERSION, USER_ID_PATTERN } from './limits.js';
export { DELETED_BODY, projectMsg, receivesUpdate, UPDATE_FEATURES } from './project.js';
export type { DecodeError, DecodeResult } from './result.js';
export { cutText, excerpt, isWellFormedText } from './text.js';
export type { UploadCompleted, UploadCreated, UploadRequest, UploadRequestResult } from './upload.js';
export { decodeUploadCompleted, decodeUploadCreated, decodeUploadRequest } from './upload.js';
