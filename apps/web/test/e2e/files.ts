import type { PigeonClient } from '@pigeon/client';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Helpers of the browser tests of attachments (issue 12): handing files to the page, finding them. */

/** A file as the page gets it: name, type, bytes. */
export interface TestFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** Picks files with the composer's 📎 button (its hidden file input). */
export async function pick(page: Page, files: TestFile[]): Promise<void> {
  await page.locator('[data-testid="file-picker"]').setInputFiles(files);
}

/** The rows of the open log that hold a stored file with this name (an image tile or a card). */
export function fileRow(page: Page, name: string): Locator {
  return page.locator('.bubble-row').filter({
    has: page.locator(`[aria-label="Open the image ${name}"], [aria-label="Download ${name}"]`),
  });
}

/** The rows of the open log that hold my file with this name still on its way (or refused). */
export function uploadRow(page: Page, name: string): Locator {
  return page.locator('.bubble-row').filter({
    has: page.getByTestId('upload').filter({ has: page.locator('.file-name', { hasText: name }) }),
  });
}

/** Drops files onto the conversation as a drag from the desktop does. */
export async function drop(page: Page, files: TestFile[]): Promise<void> {
  const dt = await page.evaluateHandle(
    (list) => {
      const t = new DataTransfer();
      for (const f of list) t.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.mimeType }));
      return t;
    },
    files.map((f) => ({ name: f.name, mimeType: f.mimeType, bytes: [...f.buffer] })),
  );
  const pane = page.locator('.chat-pane');
  await pane.dispatchEvent('dragenter', { dataTransfer: dt });
  await pane.dispatchEvent('dragover', { dataTransfer: dt });
  await pane.dispatchEvent('drop', { dataTransfer: dt });
}

/** Pastes an image into the composer as a screenshot from the clipboard would come. */
export async function paste(page: Page, file: TestFile): Promise<void> {
  await page.locator('.composer textarea').evaluate(
    (el, f) => {
      const t = new DataTransfer();
      t.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.mimeType }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: t, bubbles: true, cancelable: true }));
    },
    { name: file.name, mimeType: file.mimeType, bytes: [...file.buffer] },
  );
}

/**
 * The bytes of a file the page shows (an image tile once its picture loaded, or a card), as
 * its recipient downloads them: the same file fetched by its id with the recipient's own
 * session through the real client (the page's blob: URL cannot be read back under the CSP).
 */
export async function shownBytes(page: Page, name: string, reader: PigeonClient): Promise<Buffer> {
  const tile = page.getByRole('button', { name: `Open the image ${name}` });
  let holder = page
    .getByTestId('file-card')
    .filter({ has: page.getByRole('button', { name: `Download ${name}` }) });
  if ((await tile.count()) > 0) {
    const img = tile.locator('img');
    await img.waitFor();
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0))
      .toBe(true);
    holder = tile;
  }
  const id = await holder.getAttribute('data-file-id');
  if (!id) throw new Error(`no file id on ${name}`);
  const got = await reader.download(id);
  return Buffer.concat(got.chunks);
}
