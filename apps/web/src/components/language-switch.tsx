import { useId } from 'react';
import { LANGUAGE_NAMES, LANGUAGES, type Language } from '../i18n/strings';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { setLanguage } from '../store/document-setup';

/** `visibleLabel`: on the Settings page the label is shown; elsewhere it is for screen readers. */
export function LanguageSwitch({ visibleLabel = false }: { visibleLabel?: boolean }) {
  const t = useT();
  const id = useId();
  const language = useChatStore((s) => s.language);
  return (
    <div className="language-switch">
      <label htmlFor={id} className={visibleLabel ? undefined : 'sr-only'}>
        {t('languageLabel')}
      </label>
      <select id={id} value={language} onChange={(e) => void setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l === 'zh' ? 'zh-CN' : 'en'}>
            {LANGUAGE_NAMES[l]}
          </option>
        ))}
      </select>
    </div>
  );
}
