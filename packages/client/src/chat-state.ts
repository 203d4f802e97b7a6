import type { ConversationItem, SettingsFrame } from '@pigeon/protocol';
import type { ChatSettings, ReadState, ReadStates, WriteOp } from './chat-types.js';
import type { Entry } from './inbox.js';
import { messageKey } from './message-state.js';
import { observable } from './observable.js';

const UNKNOWN: ChatSettings = { readReceipts: null, blocked: null };

/**
 * The signed-in user's chat state that is not a list of messages, kept observable for any UI:
 * unread counts and read marks per conversation, exactly as the server reports them
 * (conversation rows and `read` updates are the truth; a message arriving after that counts
 * one more), the peer's read receipts, and the settings (`readReceipts`, `blocked`).
 *
 * Fed by processed entries only (an entry a listener refused is fed when it is finally
 * processed, never twice), and by answers handled in inbox order, so a count taken by the
 * server never meets an entry it already covered.
 */
export class ChatState {
  readonly readStates = observable<ReadStates>({});
  readonly settings = observable<ChatSettings>(UNKNOWN);
  /**
   * Per peer: the messages counted on top of the server's last count. A `hide` of one of them
   * takes it off again; a hidden message the server had counted is corrected by the next
   * `read` update or conversations row.
   */
  private readonly counted = new Map<string, Set<string>>();
  private me: string | null = null;
  /**
   * A settings answer may have been read before a change that reached us first (the server
   * answers reads beside its writes: a block's `ok` and update can overtake the answer to a
   * `settings` asked earlier). So while a request is out, each change is logged and replayed
   * on top of any answer asked for before it; replaying one the answer already has changes
   * nothing.
   */
  private changeSeq = 0;
  private readonly changes: { seq: number; apply: (s: ChatSettings) => ChatSettings }[] = [];
  private readonly asking: number[] = [];

  /** A new user signed in (or nobody): everything known is theirs no more. */
  reset(me: string | null): void {
    this.me = me;
    this.counted.clear();
    this.readStates.set({});
    this.settings.set(UNKNOWN);
    this.changes.length = 0;
  }

  /** A `settings` request goes out: returns its mark, for `onSettings` and `settingsSettled`. */
  settingsAsked(): number {
    this.asking.push(this.changeSeq);
    return this.changeSeq;
  }

  /** That request was answered or failed: changes no request can predate any more are dropped. */
  settingsSettled(mark: number): void {
    const at = this.asking.indexOf(mark);
    if (at >= 0) this.asking.splice(at, 1);
    const oldest = this.asking.length > 0 ? Math.min(...this.asking) : this.changeSeq;
    while ((this.changes[0]?.seq ?? Number.POSITIVE_INFINITY) <= oldest) this.changes.shift();
  }

  private changeSettings(apply: (s: ChatSettings) => ChatSettings): void {
    this.changeSeq += 1;
    if (this.asking.length > 0) this.changes.push({ seq: this.changeSeq, apply });
    this.settings.set(apply(this.settings.get()));
  }

  private put(peer: string, change: Partial<ReadState>): void {
    const all = this.readStates.get();
    const prev = all[peer];
    const next = { unread: 0, readUpto: null, seenUpto: null, ...prev, ...change };
    // A conversation heard of for the first time is added even with nothing unread.
    const same =
      prev !== undefined &&
      next.unread === prev.unread &&
      next.readUpto === prev.readUpto &&
      next.seenUpto === prev.seenUpto;
    if (same) return;
    this.readStates.set({ ...all, [peer]: next });
  }

  /** A processed mailbox entry. `counting`: the connection has `read`, so unread counts are kept. */
  onEntry(e: Entry, counting: boolean): void {
    if (e.t === 'msg') {
      const me = this.me;
      if (!counting || me === null || e.from === me || e.to !== me || e.read === true) return;
      const key = messageKey(e);
      let set = this.counted.get(e.from);
      if (!set) {
        set = new Set();
        this.counted.set(e.from, set);
      }
      if (set.has(key)) return;
      set.add(key);
      this.put(e.from, { unread: (this.readStates.get()[e.from]?.unread ?? 0) + 1 });
      return;
    }
    switch (e.kind) {
      case 'read':
        this.counted.delete(e.with);
        this.put(e.with, { unread: e.unread, readUpto: e.upto });
        return;
      case 'seen':
        this.put(e.with, { seenUpto: e.upto });
        return;
      case 'hide': {
        const set = this.counted.get(e.with);
        if (set?.delete(messageKey(e))) {
          this.put(e.with, { unread: Math.max(0, (this.readStates.get()[e.with]?.unread ?? 0) - 1) });
        }
        return;
      }
      case 'settings': {
        const on = e.readReceipts;
        this.changeSettings((s) => ({ ...s, readReceipts: on }));
        return;
      }
      case 'block':
        this.setBlocked(e.user, e.blocked);
        return;
      default:
        return;
    }
  }

  /**
   * A write of mine was stored (`ok`): what it set is the truth now, so `settings` follows at
   * once instead of when its update arrives (right after; applying that again changes nothing).
   */
  onStored(op: WriteOp): void {
    if (op.t === 'receipts') {
      const on = op.on;
      this.changeSettings((s) => ({ ...s, readReceipts: on }));
    } else if (op.t === 'block' || op.t === 'unblock') this.setBlocked(op.user, op.t === 'block');
  }

  private setBlocked(user: string, blocked: boolean): void {
    this.changeSettings((s) => {
      // Unknown stays unknown: the settings answer after every `synced` brings the whole list.
      if (s.blocked === null) return s;
      const others = s.blocked.filter((u) => u !== user);
      return { ...s, blocked: blocked ? [...others, user].sort() : others };
    });
  }

  /** Conversation rows (with `read`, each carries the server's count and my mark). */
  onRows(rows: readonly ConversationItem[]): void {
    for (const row of rows) {
      if (row.unread === undefined) continue;
      this.counted.delete(row.with);
      this.put(row.with, { unread: row.unread, readUpto: row.readUpto ?? null });
    }
  }

  /**
   * A `settings` answer to the request marked `mark`: the fields it carries are the truth as of
   * that request (absent ones stay as they were), with the changes learnt since replayed on top.
   */
  onSettings(frame: SettingsFrame, mark: number): ChatSettings {
    const prev = this.settings.get();
    let next: ChatSettings = {
      readReceipts: frame.readReceipts ?? prev.readReceipts,
      blocked: frame.blocked ? [...frame.blocked].sort() : prev.blocked,
    };
    for (const change of this.changes) if (change.seq > mark) next = change.apply(next);
    this.settings.set(next);
    return next;
  }
}
