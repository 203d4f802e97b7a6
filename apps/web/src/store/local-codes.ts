/**
 * Failure codes the web app decides on its own, before anything reaches the client or the
 * server: they sit beside the protocol's `ErrorCode` / `HttpErrorCode` and the client's
 * `ClientErrorCode` in the same `code` fields, so they are constants like those (issue 13: no
 * code as a string literal), and their words are the i18n keys built from them.
 */
export const LocalCode = {
  /** A form field the user left empty (sign-in, change password). */
  required: 'required',
  /** A search with no letter or digit in it: the server would refuse it, so it is not sent. */
  noTerms: 'no_terms',
} as const;
