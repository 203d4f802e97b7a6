import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `pigeon login` saves: enough for the other commands to connect. */
export interface CliConfig {
  server: string;
  user: string;
  token: string;
}

/** `PIGEON_CONFIG`, else `~/.config/pigeon/config.json` (XDG_CONFIG_HOME honoured). */
export function configPath(env: Record<string, string | undefined>): string {
  if (env.PIGEON_CONFIG) return env.PIGEON_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'pigeon', 'config.json');
}

/** The client's own state (outbox, cursor) lives beside the config file. */
export function statePath(config: string): string {
  return config.replace(/(\.json)?$/, '.state.json');
}

export function readConfig(path: string): CliConfig | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<CliConfig>;
    if (
      typeof value.server === 'string' &&
      typeof value.user === 'string' &&
      typeof value.token === 'string'
    ) {
      return { server: value.server, user: value.user, token: value.token };
    }
  } catch {
    // A corrupt file is treated as "not logged in"; login rewrites it.
  }
  return null;
}

/** Written atomically with mode 0600: it holds a bearer token. */
export function writeConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function removeConfig(path: string): void {
  rmSync(path, { force: true });
}
