// The little of jsdom these tests use (jsdom ships no types; @types/jsdom would pull the DOM
// lib into this package's test compilation, whose point is to run without it).
declare module 'jsdom' {
  import type { XhrLike } from '../src/index.js';
  export class JSDOM {
    constructor(html: string, options: { url: string });
    readonly window: { XMLHttpRequest: new () => XhrLike; Blob: typeof Blob };
  }
}
