import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as v from 'valibot';

/** What `pigeon login` saves: enough for the other commands to connect. */
export interface CliConfig {
  server: string;
  user: string;
  token: string;
}

const CliConfigSchema = v.object({ server: v.string(), user: v.string(), token: v.string() });

/** `PIGEON_CONFIG`, else `~/.config/pigeon/config.json` (XDG_CONFIG_HOME honoured). */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.PIGEON_CONFIG) return env.PIGEON_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'pigeon', 'config.json');
}

/** The client's own state (outbox, cursor) lives beside the config file, one file per key. */
export function stateDir(config: string): string {
  return config.replace(/(\.json)?$/, '.state');
}

/** Where versions before the per-key directory kept the whole state in one file (migrated once). */
export function legacyStateFile(config: string): string {
  return config.replace(/(\.json)?$/, '.state.json');
}

/** The saved session, or null when there is none or it is malformed ("not logged in"; login rewrites it). */
export function readConfig(path: string): CliConfig | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = v.safeParse(CliConfigSchema, value);
  return parsed.success ? parsed.output : null;
}

/** Written atomically (temp file, fsync, rename) with mode 0600: it holds a bearer token. */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(config, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function removeConfig(path: string): void {
  rmSync(path, { force: true });
}
