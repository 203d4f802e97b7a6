import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DELETED_BODY,
  FEATURES,
  type Feature,
  fallbackBody,
  type MsgFrame,
  NO_FEATURES,
  projectMsg,
  receivesUpdate,
  UPDATE_FEATURES,
  type UpdateKind,
} from '../src/index.js';
import { featuresArb, fullMsgArb } from './arbitraries.js';

const V1_KEYS = ['t', 'cursor', 'id', 'from', 'to', 'body', 'ts', 'delivered'];
const ALL = new Set(FEATURES);
const base: MsgFrame = {
  t: 'msg',
  cursor: 'c1',
  id: 'm1',
  from: 'a',
  to: 'b',
  body: 'hi',
  ts: 1,
  delivered: true,
};

describe('projectMsg: what each connection is sent of a message', () => {
  it('property: a version-1 connection gets exactly the version-1 fields', () => {
    fc.assert(
      fc.property(fullMsgArb, (m) => {
        const out = projectMsg(m, NO_FEATURES);
        expect(Object.keys(out).sort()).toEqual([...V1_KEYS].sort());
        const files = m.files ?? [];
        expect(out.body).toBe(
          m.deleted ? DELETED_BODY : files.length > 0 ? fallbackBody(m.body, files) : m.body,
        );
      }),
      { numRuns: 500 },
    );
  });
  it('property: every feature gets the message unchanged (the same object) unless it is deleted', () => {
    fc.assert(
      fc.property(fullMsgArb, (m) => {
        const out = projectMsg(m, ALL);
        if (!m.deleted) expect(out).toBe(m);
        else {
          expect(out).toMatchObject({ deleted: true, body: '' });
          expect([out.files, out.replyTo, out.reactions]).toEqual([undefined, undefined, undefined]);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('property: a field is sent exactly when its feature is negotiated; the input is never changed', () => {
    const fieldFeature: Record<string, Feature> = {
      read: 'read',
      edited: 'edit',
      replyTo: 'reply',
      reactions: 'react',
    };
    fc.assert(
      fc.property(fullMsgArb, featuresArb, (m, list) => {
        const before = structuredClone(m);
        const features = new Set(list);
        const out = projectMsg(m, features);
        expect(m).toEqual(before);
        for (const [field, feature] of Object.entries(fieldFeature)) {
          const sent = (out as unknown as Record<string, unknown>)[field];
          // Deleted for everyone: the content fields are gone for every connection.
          const gone = m.deleted && ['files', 'replyTo', 'reactions'].includes(field);
          const kept = (m as unknown as Record<string, unknown>)[field];
          expect(sent).toEqual(features.has(feature) && !gone ? kept : undefined);
        }
        expect(out.deleted).toBe(features.has('edit') ? m.deleted : undefined);
      }),
      { numRuns: 500 },
    );
  });
  it('a deleted message: an empty body with edit, the placeholder without', () => {
    const deleted: MsgFrame = { ...base, body: '', deleted: true };
    expect(projectMsg(deleted, new Set(['edit']))).toBe(deleted);
    expect(projectMsg(deleted, new Set(['reply', 'react']))).toEqual({ ...base, body: DELETED_BODY });
  });
  it('a plain message costs no copy on any connection', () => {
    expect(projectMsg(base, NO_FEATURES)).toBe(base);
  });
});

describe('which connections are sent which updates', () => {
  it('a version-1 connection is sent none', () => {
    for (const kind of Object.keys(UPDATE_FEATURES) as UpdateKind[]) {
      expect(receivesUpdate(kind, NO_FEATURES)).toBe(false);
      expect(receivesUpdate(kind, ALL)).toBe(true);
    }
  });
  it('reply connections follow edits and deletions (quotes show the current original), not hides', () => {
    const reply = new Set<Feature>(['reply']);
    expect(['edit', 'delete', 'hide'].map((k) => receivesUpdate(k as UpdateKind, reply))).toEqual([
      true,
      true,
      false,
    ]);
  });
});
