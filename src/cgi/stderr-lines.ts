/**
 * Splits a byte stream into lines for the log, holding a partial line until its end arrives, so
 * that one PHP error message is one log line however the pipe chunked it.
 */
export class LineSplitter {
  #partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.#partial + chunk.toString();
    const lines = text.split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Emits what is left when the stream ends without a final newline. */
  flush(): void {
    if (this.#partial !== '') this.emit(this.#partial);
    this.#partial = '';
  }
}
