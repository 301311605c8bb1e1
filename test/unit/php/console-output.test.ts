import { describe, expect, it } from 'vitest';
import { ConsoleOutput, consoleResult, MAX_RESPONSE_BYTES, textTail } from '../../../src/php/console-output.ts';

function resultOf(output: ConsoleOutput, maxBytes?: number) {
  const { bytes, droppedBytes } = output.tail();
  const json = consoleResult(0, bytes, droppedBytes, maxBytes).json;
  return { json, size: Buffer.byteLength(json), parsed: JSON.parse(json) as { exitCode: number; output: string } };
}

describe('ConsoleOutput', () => {
  it('keeps everything up to its limit, in the order it came', () => {
    const output = new ConsoleOutput(100);
    for (const chunk of ['one\n', 'two\n', 'three\n']) output.push(Buffer.from(chunk));
    expect(output.tail()).toEqual({ bytes: Buffer.from('one\ntwo\nthree\n'), droppedBytes: 0 });
  });

  it('keeps only the last bytes of a long output, and counts what it left out', () => {
    const output = new ConsoleOutput(10);
    let all = '';
    for (let i = 0; i < 50; i++) {
      const chunk = `${i},`;
      all += chunk;
      output.push(Buffer.from(chunk));
    }
    const { bytes, droppedBytes } = output.tail();
    expect(bytes.toString()).toBe(all.slice(-10));
    expect(droppedBytes).toBe(all.length - 10);
  });

  it('keeps the tail of one chunk larger than its limit', () => {
    const output = new ConsoleOutput(4);
    output.push(Buffer.from('abcdefgh'));
    expect(output.tail()).toEqual({ bytes: Buffer.from('efgh'), droppedBytes: 4 });
  });
});

describe('consoleResult', () => {
  it('is {"exitCode", "output"} with the whole output when it fits', () => {
    const output = new ConsoleOutput();
    output.push(Buffer.from('Migrated 3 tables\n'));
    const { json } = resultOf(output);
    expect(json).toBe('{"exitCode":0,"output":"Migrated 3 tables\\n"}');
    expect(consoleResult(0, Buffer.alloc(0), 0).json).toBe('{"exitCode":0,"output":""}');
  });

  it('fits Lambda’s 6 MB response limit, measured on the JSON, leaving out the start and saying how much', () => {
    // Control characters grow sixfold in JSON (\u0001): 2 MB of them do not fit 6 MB.
    const text = 'A'.repeat(1000) + '\u0001'.repeat(2 * 1024 * 1024) + '\nthe end\n';
    const output = new ConsoleOutput();
    output.push(Buffer.from(text));
    const { size, parsed } = resultOf(output);
    expect(size).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(size).toBeGreaterThan(MAX_RESPONSE_BYTES - 16);
    const notice = /^\[lambda-php: the first (\d+) bytes of output were left out to fit Lambda's 6 MB response limit\]\n/.exec(parsed.output)!;
    expect(notice).not.toBeNull();
    const kept = parsed.output.slice(notice[0].length);
    expect(text.endsWith(kept)).toBe(true);
    expect(Number(notice[1])).toBe(Buffer.byteLength(text) - Buffer.byteLength(kept));
  });

  it('counts the bytes the collector already left out', () => {
    const output = new ConsoleOutput(8);
    output.push(Buffer.from('0123456789abcdef'));
    expect(resultOf(output).parsed.output).toBe("[lambda-php: the first 8 bytes of output were left out to fit Lambda's 6 MB response limit]\n89abcdef");
  });

  it('never starts with a broken character: a multi-byte character cut by the collector is left out whole', () => {
    const output = new ConsoleOutput(4);
    output.push(Buffer.from('xé✓ok')); // x, é (2 bytes), ✓ (3 bytes), o, k: the last 4 bytes start inside ✓
    const { parsed } = resultOf(output);
    expect(parsed.output).toMatch(/the first 6 bytes of output were left out/);
    expect(parsed.output.endsWith('\nok')).toBe(true);
    expect(parsed.output).not.toContain('\ufffd');
  });

  it('never cuts a surrogate pair in two', () => {
    const text = '😀'.repeat(1000);
    for (let max = 200; max < 260; max++) {
      const json = consoleResult(0, Buffer.from(text), 0, max).json;
      expect(Buffer.byteLength(json), `max ${max}`).toBeLessThanOrEqual(max);
      const output = (JSON.parse(json) as { output: string }).output;
      expect(output.split('\n')[1], `max ${max}`).toMatch(/^(😀)+$/);
    }
  });

  it('fits any limit, however the output is made', () => {
    const alphabet = ['a', '"', '\\', '\u0000', '\u001f', 'é', '✓', '😀', '\n'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const text = Array.from({ length: Math.floor(random() * 400) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const max = 150 + Math.floor(random() * 600);
      const json = consoleResult(3, Buffer.from(text), 0, max).json;
      const parsed = JSON.parse(json) as { exitCode: number; output: string };
      expect(parsed.exitCode).toBe(3);
      if (Buffer.byteLength(JSON.stringify({ exitCode: 3, output: text })) <= max) {
        expect(parsed.output).toBe(text);
      } else {
        expect(Buffer.byteLength(json)).toBeLessThanOrEqual(max);
        expect(text.endsWith(parsed.output.slice(parsed.output.indexOf(']\n') + 2))).toBe(true);
      }
    }
  });
});

describe('textTail', () => {
  it('is the text when short, else its end marked as cut', () => {
    expect(textTail('short', 10)).toBe('short');
    expect(textTail('0123456789abc', 4)).toBe('…9abc');
    expect(textTail('ab😀', 1)).toBe('…');
  });
});
