import {
  type ConversationItem,
  type ConversationsFrame,
  type Feature,
  LIMITS,
  type SettingsFrame,
} from '@pigeon/protocol';
import type { Account } from './account.js';
import type { ChatSettings, SearchOptions, SearchPage } from './chat-types.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { asks, type ResolvedOptions } from './options.js';
import {
  type AnswerReader,
  conversationsFrame,
  historyFrame,
  type RequestFrame,
  type Requests,
  searchFrame,
} from './requests.js';
import type { ConversationsOptions, ConversationsPage, HistoryOptions, HistoryPage } from './types.js';

export interface QueriesHost {
  /** The application wants a connection (requests made otherwise reject with `stopped`). */
  running(): boolean;
  /** Sends on the online connection; its generation, or null when not online. */
  write(frame: RequestFrame): number | null;
  /** The online connection's generation, or null when not online. */
  generation(): number | null;
  /** What the server enabled on the current connection. */
  features(): readonly Feature[];
  account(): Account | null;
  outboxChanged(): void;
  /** Conversation rows arrived (answers are read in inbox order: see session.ts). */
  rows(frame: ConversationsFrame): void;
  /** A settings request goes out; returns its mark. */
  settingsAsked(): number;
  /** The answer to the request marked `mark` arrived; returns the settings now known. */
  settings(frame: SettingsFrame, mark: number): ChatSettings;
  /** That request is over (answered or failed). */
  settingsSettled(mark: number): void;
}

function unsupported(feature: Feature): PigeonRequestError {
  return new PigeonRequestError(ClientErrorCode.unsupported, `needs the '${feature}' feature`);
}

/** The request/answer calls of the API, each with its typed answer (no casts). */
export class Queries {
  constructor(
    private readonly o: ResolvedOptions,
    private readonly requests: Requests,
    private readonly host: QueriesHost,
  ) {}

  /**
   * Sends `frame` once online. With `needs`, the call rejects `unsupported` at once when this
   * client never asks for that feature, and when the connection it would go out on does not
   * have it (a server without the feature would only answer `bad_frame`).
   */
  private request<T>(
    frame: RequestFrame,
    read: AnswerReader<T>,
    needs?: readonly [Feature, ...Feature[]],
  ): Promise<T> {
    if (!this.host.running()) {
      return Promise.reject(new PigeonRequestError(ClientErrorCode.stopped, 'the client is not started'));
    }
    const asked = needs?.find((f) => asks(this.o, f));
    if (needs && asked === undefined) return Promise.reject(unsupported(needs[0]));
    return this.requests.start(frame, read, (f) => {
      const generation = this.host.generation();
      const enabled = this.host.features();
      if (generation !== null && needs && !needs.some((n) => enabled.includes(n))) {
        // Not sent: answered at once, as the server would refuse it.
        const error = unsupported(needs[0]);
        this.requests.answer(f.rid, { t: 'error', code: error.code, message: error.message, rid: f.rid });
        return generation;
      }
      return this.host.write(f);
    });
  }

  async history(withUser: string, options: HistoryOptions): Promise<HistoryPage> {
    const frame = historyFrame(withUser, options, this.requests.nextRid('h'));
    const page = await this.request(
      frame,
      (f) => (f.t === 'history' ? { items: f.items, more: f.more } : undefined),
      options.after === undefined ? undefined : ['paging'],
    );
    // Our own messages in history prove them stored (or delivered), e.g. after a lost `sent`.
    const account = this.host.account();
    let changed = false;
    for (const m of page.items) {
      if (account && m.from === account.user) {
        changed =
          (m.delivered ? account.box.markDelivered(m.id, m.ts) : account.box.markSent(m.id, m.ts)) || changed;
      }
    }
    if (changed) this.host.outboxChanged();
    return page;
  }

  async ping(): Promise<number> {
    const started = this.o.now();
    await this.request({ t: 'ping', rid: this.requests.nextRid('q') }, (f) =>
      f.t === 'pong' ? true : undefined,
    );
    return this.o.now() - started;
  }

  private get paging(): boolean {
    return this.host.features().includes('paging');
  }

  async conversations(): Promise<ConversationItem[]> {
    if (!this.paging) return (await this.conversationsPage({})).items;
    const rows: ConversationItem[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await this.conversationsPage({ limit: LIMITS.conversationsMaxLimit, before });
      rows.push(...page.items);
      const next = page.items.at(-1)?.last.cursor;
      // A page that does not move on (a server bug) must not loop forever.
      if (!page.more || next === undefined || next === before) return rows;
      before = next;
    }
  }

  async conversationsPage(options: ConversationsOptions): Promise<ConversationsPage> {
    const paging = this.paging;
    if (!paging && options.before !== undefined) {
      throw new PigeonRequestError(ClientErrorCode.unsupported, 'the server did not enable paging');
    }
    const rid = this.requests.nextRid('c');
    // Version 1 has no `limit`: the server answers its one bounded list.
    const frame: RequestFrame = paging ? conversationsFrame(options, rid) : { t: 'conversations', rid };
    return this.request(frame, (f) => {
      if (f.t !== 'conversations') return undefined;
      this.host.rows(f);
      return { items: f.items, more: f.more ?? false };
    });
  }

  /** `settings` (`read` or `block`): the answer updates `client.settings` too. */
  settings(): Promise<ChatSettings> {
    const mark = this.host.settingsAsked();
    return this.request(
      { t: 'settings', rid: this.requests.nextRid('s') },
      (f) => (f.t === 'settings' ? this.host.settings(f, mark) : undefined),
      ['read', 'block'],
    ).finally(() => this.host.settingsSettled(mark));
  }

  search(q: string, options: SearchOptions): Promise<SearchPage> {
    const frame = searchFrame(q, options, this.requests.nextRid('f'));
    return this.request(frame, (f) => (f.t === 'search' ? { items: f.items, more: f.more } : undefined), [
      'search',
    ]);
  }
}
