import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines for the log, holding a partial line until its end arrives, so
 * that one PHP error message is one log line however the pipe chunked it.
 */
export class LineSplitter {
  #partial = '';
  // A multi-byte UTF-8 character may be cut between two chunks. Made with the first bytes: most
  // streams (php-cgi's stdout, a request's stderr) never carry any.
  #decoder: StringDecoder | undefined;

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : (this.#decoder ??= new StringDecoder('utf8')).write(chunk));
    const lines = text.split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Emits what is left when the stream ends without a final newline. */
  flush(): void {
    if (this.#decoder) this.#partial += this.#decoder.end();
    if (this.#partial !== '') this.emit(this.#partial);
    this.#partial = '';
  }
}
