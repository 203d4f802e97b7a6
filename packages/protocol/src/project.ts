// What one connection is sent of a mailbox entry, given the features it negotiated
// (PROTOCOL.md "What a connection sees"). A store keeps every entry in full; each
// connection gets its own view, and a version-1 connection gets exactly version 1.

import type { UpdateKind } from './chat-frames.js';
import type { Feature, FeatureSet } from './features.js';
import { fallbackBody } from './files.js';
import type { MsgFrame } from './frames.js';

/** The body a connection without `edit` is shown for a message deleted for everyone. */
export const DELETED_BODY = '🚫 This message was deleted';

/** Which features receive each kind of update; a connection with none of them skips it. */
export const UPDATE_FEATURES: Readonly<Record<UpdateKind, readonly Feature[]>> = {
  read: ['read'],
  seen: ['read'],
  settings: ['read'],
  // A quote shows the original's current text, so `reply` clients follow edits and deletions too.
  edit: ['edit', 'reply'],
  delete: ['edit', 'reply'],
  hide: ['edit'],
  react: ['react'],
  block: ['block'],
};

/** Whether a connection with these features is sent an update of this kind. */
export function receivesUpdate(kind: UpdateKind, features: FeatureSet): boolean {
  return UPDATE_FEATURES[kind].some((f) => features.has(f));
}

/** Each optional msg field and the feature a connection needs to be sent it. */
const FIELD_FEATURE = {
  read: 'read',
  edited: 'edit',
  replyTo: 'reply',
  reactions: 'react',
  files: 'files',
} as const satisfies Partial<Record<keyof MsgFrame, Feature>>;

/**
 * A message as a connection with these features is sent it: fields of features it lacks
 * are left out, a deletion shows as `DELETED_BODY` to a connection without `edit`, and
 * attachments as `fallbackBody` text to one without `files`.
 * `full` is the message with every field the store knows; it is returned as it is when
 * nothing has to go, so the common case allocates nothing.
 */
export function projectMsg(full: MsgFrame, features: FeatureSet): MsgFrame {
  let out: MsgFrame | null = null;
  const edit = () => {
    out ??= { ...full };
    return out;
  };
  for (const [field, feature] of Object.entries(FIELD_FEATURE) as [keyof typeof FIELD_FEATURE, Feature][]) {
    if (full[field] !== undefined && !features.has(feature)) delete edit()[field];
  }
  if (full.deleted) {
    // Deleted for everyone: nothing of its content is left for anyone, whatever a store still lists.
    for (const field of ['files', 'replyTo', 'reactions'] as const) {
      if (full[field] !== undefined) delete edit()[field];
    }
    if (!features.has('edit')) {
      const m = edit();
      delete m.deleted;
      m.body = DELETED_BODY;
    } else if (full.body !== '') edit().body = '';
  } else if (full.files && full.files.length > 0 && !features.has('files')) {
    // Without `files`, attachments become lines of text under the caption: "📎 report.pdf (1.2 MB)".
    edit().body = fallbackBody(full.body, full.files);
  }
  return out ?? full;
}
