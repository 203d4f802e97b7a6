import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The CLI tests run the built `dist/cli/main.js` as a real process. Tests build nothing
 * themselves: turbo's `test` task depends on `build` (turbo.json). A build older than the
 * sources would test stale code, so that stops the run, saying how to build.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const main = path.join(root, 'dist', 'cli', 'main.js');
  const built = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  const sources = Math.max(
    0,
    ...fs
      .readdirSync(path.join(root, 'src'), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs),
  );
  if (built === 0 || sources > built) {
    throw new Error(
      `packages/client/dist is ${built === 0 ? 'missing' : 'older than src/'}: run the tests with \`npm test\` (turbo builds first) or build with \`npx turbo run build --filter=@pigeon/client\``,
    );
  }
}
