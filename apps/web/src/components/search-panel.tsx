import { LIMITS, type Range } from '@pigeon/protocol';
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { formatShort } from '../lib/time-format';
import { type SearchResult, useChatStore } from '../store/chat-store';
import { featureActions } from '../store/feature-actions';
import { search } from '../store/feature-requests';
import { LocalCode } from '../store/local-codes';
import { showMessage } from '../store/log-positions';

/** The body with the matched ranges marked (UTF-16 ranges from the server, in order). */
export function highlighted(body: string, ranges: readonly Range[]): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start < at || end <= start || end > body.length) continue; // never trust a range blindly
    if (start > at) out.push(body.slice(at, start));
    out.push(<mark key={start}>{body.slice(start, end)}</mark>);
    at = end;
  }
  if (at < body.length) out.push(body.slice(at));
  return out;
}

function ResultItem({ r }: { r: SearchResult }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const language = useChatStore((s) => s.language);
  const words = { today: t('today'), yesterday: t('yesterday') };
  const m = r.message;
  const who = m.from === me ? t('youPrefix') : `${m.from}: `;
  return (
    <li>
      <button
        type="button"
        className="search-result"
        data-testid="search-result"
        onClick={() => {
          void showMessage(r.peer, { from: m.from, id: m.id }, m.cursor);
          // On a phone the chat takes the screen; the results stay for later.
          if (matchMedia('(max-width: 640px)').matches) featureActions.hideSearch();
        }}
      >
        <span className="search-result-top">
          <span className="search-result-peer">
            {r.peer === me ? t('noteToSelf', { user: r.peer }) : r.peer}
          </span>
          <time dateTime={new Date(m.ts).toISOString()}>{formatShort(m.ts, language, words)}</time>
        </span>
        <span className="sr-only">{t('searchResultIn', { user: r.peer })}, </span>
        <span className="search-result-body" dir="auto">
          <span className="search-result-who">{who}</span>
          {highlighted(m.body, r.highlights)}
        </span>
      </button>
    </li>
  );
}

/**
 * Search in the sidebar: a field, where to look (all conversations, or the open one), and
 * the results newest first with the matched words marked; choosing one opens its
 * conversation at that message with its neighbours loaded.
 */
export function SearchPanel() {
  const t = useT();
  const ids = { input: useId(), scope: useId() };
  const state = useChatStore((s) => s.search);
  const active = useChatStore((s) => s.activePeer);
  const [text, setText] = useState(state.query);
  const inputRef = useRef<HTMLInputElement>(null);

  // "Search in this conversation" (the chat's menu) opens this with the focus in the field.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new scope (state.peer) puts the focus back in the field too
  useEffect(() => {
    if (state.open) inputRef.current?.focus();
  }, [state.open, state.peer]);

  function submit(e: FormEvent) {
    e.preventDefault();
    void search(text, state.peer);
  }

  const peerOption = state.peer ?? active;
  let status: string | null = null;
  if (state.loading) status = t('searching');
  else if (state.error === LocalCode.noTerms) status = t('searchWords');
  else if (state.error) status = t('searchFailed', { code: state.error });
  else if (state.query && state.results.length === 0) status = t('searchNone');
  else if (state.query)
    status = state.more
      ? t('searchResultsMore', { count: state.results.length })
      : t('searchResults', { count: state.results.length });

  return (
    <section className="search-panel" aria-label={t('searchLabel')}>
      <form className="search-form" onSubmit={submit}>
        <label htmlFor={ids.input} className="sr-only">
          {t('searchLabel')}
        </label>
        <div className="search-row">
          <input
            id={ids.input}
            ref={inputRef}
            type="search"
            name="q"
            value={text}
            maxLength={LIMITS.searchQueryMaxLength}
            placeholder={t('searchPlaceholder')}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                // Leaves the search, not the open conversation.
                e.preventDefault();
                featureActions.closeSearch();
                setText('');
              }
            }}
          />
          <button type="submit" className="primary small" disabled={text.trim() === ''}>
            {t('searchButton')}
          </button>
        </div>
        {peerOption && (
          <div className="search-scope">
            <label htmlFor={ids.scope}>{t('searchScope')}</label>
            <select
              id={ids.scope}
              value={state.peer ?? ''}
              onChange={(e) => featureActions.openSearch(e.target.value === '' ? null : e.target.value)}
            >
              <option value="">{t('searchAll')}</option>
              <option value={peerOption}>{t('searchHere', { user: peerOption })}</option>
            </select>
          </div>
        )}
      </form>
      <div className="search-head">
        <p className="search-status" role="status">
          {status}
        </p>
        <button
          type="button"
          className="quiet-button small"
          onClick={() => {
            featureActions.closeSearch();
            setText('');
          }}
        >
          {t('closeSearch')}
        </button>
      </div>
      {state.results.length > 0 && (
        <ul className="search-results">
          {state.results.map((r) => (
            <ResultItem key={r.message.key} r={r} />
          ))}
        </ul>
      )}
      {state.more && !state.loading && (
        <button
          type="button"
          className="quiet-button search-more"
          onClick={() => void search(state.query, state.peer, true)}
        >
          {t('searchMore')}
        </button>
      )}
    </section>
  );
}
