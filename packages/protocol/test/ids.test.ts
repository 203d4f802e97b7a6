import { describe, expect, it } from 'vitest';
import { isMessageId, isUserId, normalizeUserId, parseUserId } from '../src/index.js';

describe('user ids', () => {
  it('lowercases ASCII only', () => {
    expect(normalizeUserId('AbC_Z')).toBe('abc_z');
    // U+212A KELVIN SIGN lowercases to "k" in JavaScript; the spec forbids that mapping.
    expect(normalizeUserId('\u212A')).toBe('\u212A');
    expect(parseUserId('\u212Aelvin')).toBeNull();
    expect(parseUserId('İ')).toBeNull();
  });
  it('validates at the length boundaries', () => {
    expect(parseUserId('a'.repeat(32))).toBe('a'.repeat(32));
    expect(parseUserId('a'.repeat(33))).toBeNull();
    expect(parseUserId('')).toBeNull();
    expect(parseUserId('Alice.B-1_')).toBe('alice.b-1_');
    expect(parseUserId(42)).toBeNull();
    expect(isUserId('Alice')).toBe(false);
    expect(isUserId('alice')).toBe(true);
  });
  it('message ids: 1-64 of A-Z a-z 0-9 _ -', () => {
    expect(isMessageId('A'.repeat(64))).toBe(true);
    expect(isMessageId('A'.repeat(65))).toBe(false);
    expect(isMessageId('')).toBe(false);
    expect(isMessageId('0190f7f4-8c2a-7b3e-9d1a-1234567890ab')).toBe(true);
    expect(isMessageId('a.b')).toBe(false);
  });
});
