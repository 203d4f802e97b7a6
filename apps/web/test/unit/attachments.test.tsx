import 'fake-indexeddb/auto';
import { Blob as NodeBlob } from 'node:buffer';
import type { OutboxItem } from '@pigeon/client';
import { LIMITS } from '@pigeon/protocol';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Attachments (issue 12) in the store and the log: the IndexedDB store of the outbox's bytes,
 * the tray's limit, what an outbox item with files looks like in the log, image boxes, cards
 * and uploads. The drawing of photos (canvas) and the real upload run in the browser tests.
 */
const actions = vi.hoisted(() => ({ discard: vi.fn(), retry: vi.fn(), send: vi.fn(), setDraft: vi.fn() }));
vi.mock('../../src/store/conversation-actions', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/store/conversation-actions')>()),
  ...actions,
}));

import { previewText } from '../../src/components/conversation-list';
import { boxOf, fileKind, MessageFiles } from '../../src/components/message-files';
import { fitWithin } from '../../src/lib/image-prep';
import { addFiles, removeFile } from '../../src/store/attachment-actions';
import { indexedDbAttachments } from '../../src/store/attachment-store';
import { chatActions } from '../../src/store/chat-actions';
import { useChatStore } from '../../src/store/chat-store';
import { featureActions } from '../../src/store/feature-actions';
import type { ChatMessage } from '../../src/store/message-model';
import { fromOutbox } from '../../src/store/outbox-mapping';

beforeEach(() => {
  chatActions.reset('en');
  chatActions.signedIn('alice');
  featureActions.setFeatures(['files']);
  for (const fn of Object.values(actions)) fn.mockReset();
  // jsdom has no object URLs.
  URL.createObjectURL = vi.fn(() => `blob:test/${Math.random()}`);
  URL.revokeObjectURL = vi.fn();
});
afterEach(cleanup);

describe('the attachment store (IndexedDB)', () => {
  it('keeps bytes under a key until removed, and falls back to memory without IndexedDB', async () => {
    for (const store of [indexedDbAttachments(), indexedDbAttachments(null)]) {
      // Node's Blob: what structured cloning (IndexedDB) keeps, as a browser's Blob is kept there.
      await store.put('k1', new NodeBlob(['hello bytes'], { type: 'image/png' }));
      const back = (await store.get('k1')) as NodeBlob;
      expect(new TextDecoder().decode(await back.arrayBuffer())).toBe('hello bytes');
      await store.remove('k1');
      expect(await store.get('k1')).toBeNull();
    }
  });
});

describe('sizes', () => {
  it('scales photos to 2560 px on the longer side, never up', () => {
    expect(fitWithin(4000, 3000, 2560)).toEqual({ width: 2560, height: 1920 });
    expect(fitWithin(3000, 6000, 2560)).toEqual({ width: 1280, height: 2560 });
    expect(fitWithin(2560, 100, 2560)).toEqual({ width: 2560, height: 100 });
    expect(fitWithin(800, 600, 2560)).toEqual({ width: 800, height: 600 });
  });

  it('reserves an image box of at most 320 px a side with its real aspect ratio', () => {
    expect(boxOf(4000, 3000)).toEqual({ width: 320, height: 240 });
    expect(boxOf(1000, 4000)).toEqual({ width: 80, height: 320 });
    expect(boxOf(200, 100)).toEqual({ width: 200, height: 100 });
    // A sliver stays clickable.
    expect(boxOf(16_000, 10)).toEqual({ width: 320, height: 48 });
  });

  it('names the kind of a file for its card', () => {
    expect(
      ['application/pdf', 'application/zip', 'audio/ogg', 'video/mp4', 'image/svg+xml', 'text/html'].map(
        fileKind,
      ),
    ).toEqual(['pdf', 'archive', 'audio', 'video', 'image', 'other']);
  });
});

describe('the tray', () => {
  const file = (name: string, type = 'application/pdf') => new File(['%PDF-1.4'], name, { type });

  it('holds at most LIMITS.filesPerMessage files: 10 pass, the 11th is refused with a notice', () => {
    addFiles(
      'bob',
      Array.from({ length: LIMITS.filesPerMessage }, (_, i) => file(`f${i}.pdf`)),
    );
    expect(useChatStore.getState().tray.get('bob')).toHaveLength(10);
    expect(useChatStore.getState().toast).toBeNull();
    addFiles('bob', [file('one-too-many.pdf')]);
    expect(useChatStore.getState().tray.get('bob')).toHaveLength(10);
    expect(useChatStore.getState().toast?.text).toBe('tooManyFiles');
  });

  it('previews photos only, names a pasted image, and lets each file go again', () => {
    addFiles('bob', [file('a.png', 'image/png'), file('', 'image/png'), file('b.pdf')]);
    const tray = useChatStore.getState().tray.get('bob') ?? [];
    expect(tray.map((f) => [f.name, f.image, f.preview !== null])).toEqual([
      ['a.png', true, true],
      ['image.png', true, true],
      ['b.pdf', false, false],
    ]);
    for (const f of tray) removeFile('bob', f.id);
    expect(useChatStore.getState().tray.has('bob')).toBe(false);
    expect(URL.revokeObjectURL).toHaveBeenCalledTimes(2);
  });
});

describe('messages with files in the log', () => {
  const stored = {
    id: 'F1',
    name: 'report.pdf',
    type: 'application/pdf',
    size: 1_234_567,
  };

  it('an outbox item shows its uploads until the server names every stored file', () => {
    const item: OutboxItem = {
      id: 'm1',
      to: 'bob',
      body: '',
      state: 'pending',
      createdAt: 5,
      files: [{ key: 'k1', name: 'report.pdf', type: 'application/pdf', size: 1_234_567, uploaded: 1000 }],
    };
    const pending = fromOutbox('alice', item);
    expect(pending.uploads?.[0]?.uploaded).toBe(1000);
    expect(pending.files).toBeUndefined();
    const sent = fromOutbox('alice', {
      ...item,
      state: 'sent',
      ts: 9,
      files: [{ ...item.files![0]!, uploaded: 1_234_567, file: stored }],
    });
    expect(sent.files).toEqual([stored]);
    expect(sent.uploads).toBeUndefined();
  });

  it('a card says kind, size and offers the download; an upload shows its progress and a cancel', () => {
    const m: ChatMessage = {
      key: 'k',
      id: 'm1',
      from: 'bob',
      to: 'alice',
      body: '',
      ts: 1,
      confirmed: true,
      state: 'received',
      files: [stored],
    };
    render(<MessageFiles m={m} peer="bob" />);
    expect(screen.getByTestId('file-card').textContent).toContain('report.pdfPDF document · 1.2 MB');
    expect(screen.getByRole('button', { name: 'Download report.pdf' })).toBeTruthy();
    cleanup();
    const mine: ChatMessage = {
      ...m,
      id: 'm2',
      from: 'alice',
      to: 'bob',
      confirmed: false,
      state: 'sending',
      files: undefined,
      uploads: [{ key: 'k2', name: 'big.zip', type: 'application/zip', size: 1000, uploaded: 0 }],
    };
    useChatStore.setState({ uploads: new Map([['m2', [{ loaded: 450, total: 1000 }]]]) });
    render(<MessageFiles m={mine} peer="bob" />);
    expect(screen.getByRole('progressbar', { name: 'Sending big.zip: 45%' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel sending big.zip' }));
    expect(actions.discard).toHaveBeenCalledWith('m2');
  });

  it('an image keeps its aspect ratio and its placeholder before it loads, and opens the viewer', () => {
    const thumb = 'data:image/jpeg;base64,AAAA';
    const m: ChatMessage = {
      key: 'k',
      id: 'm3',
      from: 'bob',
      to: 'alice',
      body: 'the view',
      ts: 1,
      confirmed: true,
      state: 'received',
      files: [
        { id: 'F2', name: 'view.jpg', type: 'image/jpeg', size: 2000, width: 4000, height: 3000, thumb },
      ],
    };
    render(<MessageFiles m={m} peer="bob" />);
    const tile = screen.getByRole('button', { name: 'Open the image view.jpg' });
    expect(tile.style.width).toBe('320px');
    expect(tile.style.aspectRatio).toBe('320 / 240');
    expect(tile.style.backgroundImage).toContain(thumb);
    fireEvent.click(tile);
    expect(useChatStore.getState().viewer).toEqual({ peer: 'bob', fileId: 'F2' });
  });

  it('a message of files alone is listed by their names', () => {
    expect(previewText({ body: '', files: [{ name: 'a.jpg' }, { name: 'b.pdf' }] })).toBe(
      '📎 a.jpg 📎 b.pdf',
    );
    expect(previewText({ body: 'caption', files: [{ name: 'a.jpg' }] })).toBe('caption');
  });
});
