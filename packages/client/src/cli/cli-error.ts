/** A failure with its exit code and a message fit for the terminal (untrusted parts already escaped). */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** One message as a line of text; everything from the server is escaped (terminal-text.ts). */
