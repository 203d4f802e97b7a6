import { ClientErrorCode, type OutboxItem } from '@pigeon/client';
import { type ChatMessage, messageKey } from './message-model';

/** An outbox item of the client as a message of the log. */
export function fromOutbox(me: string, item: OutboxItem): ChatMessage {
  const confirmed = item.state === 'sent' || item.state === 'delivered';
  return {
    key: messageKey(me, item.id),
    id: item.id,
    from: me,
    to: item.to,
    body: item.body,
    ts: confirmed && item.ts !== undefined ? item.ts : item.createdAt,
    confirmed: confirmed && item.ts !== undefined,
    state:
      item.state === 'pending'
        ? 'sending'
        : item.state === 'delivered' && item.to === me
          ? 'sent'
          : item.state,
    errorCode: item.state === 'failed' ? (item.error ?? ClientErrorCode.internal) : undefined,
    replyRef: item.replyTo,
    // Stored files once every upload completed (the message refers to them); until then, the uploads.
    files: item.files?.every((f) => f.file) ? item.files.flatMap((f) => (f.file ? [f.file] : [])) : undefined,
    uploads: confirmed ? undefined : item.files,
  };
}
