import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * Structured JSON logs on stdout. Callers log ids, codes and counts only: never message
 * bodies, tokens or passwords (there is no field for them, and the redaction below is a
 * second line of defence for the usual names).
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'pigeon' },
    redact: { paths: ['token', 'password', 'body', '*.token', '*.password', '*.body'], censor: '[redacted]' },
  });
}
