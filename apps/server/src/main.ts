import { loadConfig } from './config.js';
import { ConfigError } from './config-parse.js';
import { createPigeonServer } from './server.js';

/** The process entry point: config from the environment, signals, exit codes. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pigeon: bad configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const server = createPigeonServer(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.log.fatal({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    server.log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    server.log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  try {
    await server.listen();
  } catch (err) {
    server.log.fatal({ err }, 'could not start');
    process.exit(1);
  }
}

void main();
