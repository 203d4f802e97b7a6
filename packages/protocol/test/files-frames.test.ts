import { describe, expect, it } from 'vitest';
import {
  type ClientFrame,
  DELETED_BODY,
  decodeClientFrame,
  decodeServerFrame,
  encode,
  FEATURES,
  type Feature,
  LIMITS,
  type MsgFrame,
  projectMsg,
} from '../src/index.js';

const ALL = new Set(FEATURES);
const FILES = new Set<Feature>(['files']);
const s = (o: unknown) => JSON.stringify(o);
const ids = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`);
const send = (fields: Record<string, unknown>) => s({ t: 'send', id: 'm1', to: 'bob', body: '', ...fields });

describe('send with files', () => {
  it('round-trips with files, caption empty or not', () => {
    const frames: ClientFrame[] = [
      { t: 'send', id: 'm1', to: 'bob', body: '', files: ['f1'] },
      { t: 'send', id: 'm1', to: 'bob', body: 'look', files: ids(LIMITS.filesPerMessage) },
    ];
    for (const frame of frames) expect(decodeClientFrame(encode(frame), FILES)).toEqual({ ok: true, frame });
  });
  const rows: [string, string, 'ok' | 'bad_frame' | 'too_large'][] = [
    [`${LIMITS.filesPerMessage} files`, send({ files: ids(LIMITS.filesPerMessage) }), 'ok'],
    [`${LIMITS.filesPerMessage + 1} files`, send({ files: ids(LIMITS.filesPerMessage + 1) }), 'bad_frame'],
    ['an empty files list and an empty body', send({ files: [] }), 'bad_frame'],
    ['no files and an empty body', send({}), 'bad_frame'],
    ['a file listed twice', send({ files: ['f1', 'f1'] }), 'bad_frame'],
    ['a file id with a dot', send({ files: ['f.1'] }), 'bad_frame'],
    ['files not an array', send({ files: 'f1' }), 'bad_frame'],
    ['a caption of 4001 units', send({ files: ['f1'], body: 'x'.repeat(4001) }), 'too_large'],
    ['a caption with a lone surrogate', send({ files: ['f1'], body: '\udfff' }), 'bad_frame'],
  ];
  it.each(rows.map(([n, input, code]) => [n, code, input] as const))('%s → %s', (_n, code, input) => {
    const r = decodeClientFrame(input, ALL);
    expect(r.ok ? 'ok' : r.error.code).toBe(code);
  });
  it('without files: the field is ignored and an empty body is bad_frame, as in version 1', () => {
    expect(decodeClientFrame(send({ files: ['f1'] }))).toMatchObject({
      ok: false,
      error: { code: 'bad_frame', id: 'm1' },
    });
    expect(decodeClientFrame(send({ files: ['f1'], body: 'hi' }), new Set<Feature>(['reply']))).toEqual({
      ok: true,
      frame: { t: 'send', id: 'm1', to: 'bob', body: 'hi' },
    });
  });
});

describe('a message with files, per connection', () => {
  const msg: MsgFrame = {
    t: 'msg',
    cursor: 'c1',
    id: 'm1',
    from: 'alice',
    to: 'bob',
    body: 'the report',
    ts: 1,
    delivered: false,
    files: [
      { id: 'f1', name: 'report.pdf', type: 'application/pdf', size: 1_200_000 },
      {
        id: 'f2',
        name: 'cat.webp',
        type: 'image/webp',
        size: 34_000,
        width: 640,
        height: 480,
        thumb: 'data:image/webp;base64,AA==',
      },
    ],
  };
  it('round-trips through the client decoder', () => {
    expect(decodeServerFrame(encode(msg))).toEqual({ ok: true, frame: msg });
  });
  it('with files: as stored', () => {
    expect(projectMsg(msg, FILES)).toBe(msg);
  });
  it('without files (version 1, /legacy): the fallback text, no files field', () => {
    const { files: _f, ...rest } = msg;
    expect(projectMsg(msg, new Set())).toEqual({
      ...rest,
      body: 'the report\n📎 report.pdf (1.2 MB)\n📎 cat.webp (34 kB)',
    });
  });
  it('deleted for everyone: the placeholder, whatever else the connection has', () => {
    const deleted: MsgFrame = { ...msg, body: '', deleted: true };
    expect(projectMsg(deleted, FILES).body).toBe(DELETED_BODY);
    expect(projectMsg(deleted, new Set()).body).toBe(DELETED_BODY);
  });
  it('the client decoder refuses a file without size or with a zero width', () => {
    const bad1 = { ...msg, files: [{ id: 'f', name: 'n', type: 't/x' }] };
    const bad2 = { ...msg, files: [{ ...msg.files![1], width: 0 }] };
    for (const frame of [bad1, bad2]) expect(decodeServerFrame(s(frame)).ok).toBe(false);
  });
});
