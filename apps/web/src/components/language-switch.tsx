import { useId } from 'react';
import { LANGUAGES, type Language, STRINGS } from '../i18n/strings';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { setLanguage } from '../store/client-bridge';

export function LanguageSwitch() {
  const t = useT();
  const id = useId();
  const language = useChatStore((s) => s.language);
  return (
    <div className="language-switch">
      <label htmlFor={id} className="sr-only">
        {t('languageLabel')}
      </label>
      <select id={id} value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l === 'zh' ? 'zh-CN' : 'en'}>
            {STRINGS[l].languageName}
          </option>
        ))}
      </select>
    </div>
  );
}
