import type { Frame } from './frames.js';

/** The JSON text of a frame. Optional fields left `undefined` are omitted. */
export function encode(frame: Frame): string {
  return JSON.stringify(frame);
}
