import {
  type ConversationItem,
  encode,
  FEATURES,
  type FeatureSet,
  type MsgFrame,
  NO_FEATURES,
  projectMsg,
  receivesUpdate,
  UPDATE_FEATURES,
  type UpdateKind,
} from '@pigeon/protocol';
import { msgText } from '../store/msg-text.js';
import type { Entry } from '../store/store.js';

/*
 * What one connection is sent of the mailbox (PROTOCOL.md "What a connection sees"): the
 * store keeps every entry in full, and each connection gets the view its features ask
 * for. A version-1 connection (no features) gets exactly version 1.
 */

/** A connection's view: its features, and what follows from them. */
export interface View {
  readonly features: FeatureSet;
  /** Names the feature set, so connections with the same features share encoded texts. */
  readonly key: string;
  /** The update kinds this view is sent. */
  readonly kinds: readonly UpdateKind[];
}

export const V1_VIEW: View = { features: NO_FEATURES, key: '', kinds: [] };

export function viewOf(features: FeatureSet): View {
  if (features.size === 0) return V1_VIEW;
  const kinds = (Object.keys(UPDATE_FEATURES) as UpdateKind[]).filter((k) => receivesUpdate(k, features));
  return { features, key: FEATURES.filter((f) => features.has(f)).join(','), kinds };
}

/** Texts of an entry per view key other than version 1's (which lives in `entry.text`). */
const texts = new WeakMap<Entry, Map<string, string>>();

/**
 * The text this view is sent for an entry, or null when it is not sent one (an update of
 * a kind its features do not cover). Encoded once per entry and view, however many
 * connections share them.
 */
export function entryText(entry: Entry, view: View): string | null {
  const frame = entry.frame;
  if (frame.t === 'update') {
    if (!receivesUpdate(frame.kind, view.features)) return null;
  } else if (view === V1_VIEW) {
    // msgText writes the version-1 fields only; a deletion or attachments change the body.
    entry.text ??=
      frame.deleted || frame.files?.length ? msgText(projectMsg(frame, NO_FEATURES)) : msgText(frame);
    return entry.text;
  }
  let byView = texts.get(entry);
  if (!byView) {
    byView = new Map();
    texts.set(entry, byView);
  }
  let text = byView.get(view.key);
  if (text === undefined) {
    text = encode(frame.t === 'msg' ? projectMsg(frame, view.features) : frame);
    byView.set(view.key, text);
  }
  return text;
}

/** A message of an answer (history, conversations, search), as this view is sent it. */
export function viewMsg(msg: MsgFrame, view: View): MsgFrame {
  return projectMsg(msg, view.features);
}

/** A conversation row as this view is sent it: `unread` and `readUpto` need `read`. */
export function viewRow(item: ConversationItem, view: View): ConversationItem {
  const last = projectMsg(item.last, view.features);
  if (view.features.has('read')) return last === item.last ? item : { ...item, last };
  return { with: item.with, last };
}
