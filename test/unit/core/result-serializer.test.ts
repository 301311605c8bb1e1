import { describe, expect, it } from 'vitest';
import { ResultSerializer } from '../../../src/runtime/result-serializer.ts';

const PIECE = 32 * 1024;

/** What JSON.stringify makes of `result` with `body` moved last: the serializer's promise. */
function expected(result: Record<string, unknown>): string {
  const { body, ...rest } = result;
  return JSON.stringify({ ...rest, body });
}

function text(json: string | Buffer): string {
  return typeof json === 'string' ? json : json.toString('utf8');
}

function result(body: string): Record<string, unknown> {
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'x-note': 'quote " and \\ é' }, cookies: ['a=1; Path=/'], body, isBase64Encoded: false };
}

describe('ResultSerializer', () => {
  it('leaves small results to JSON.stringify, as they are', () => {
    const small = result('<p class="x">hi</p>\n');
    expect(new ResultSerializer().toJson(small)).toBe(JSON.stringify(small));
  });

  it('writes a large HTML body with quotes, backslashes, newlines and control characters as JSON.stringify would', () => {
    const row = '<tr class="odd"><td>C:\\path</td><td>tab\there</td><td>\u0001\u001f</td></tr>\r\n';
    const big = result(row.repeat(Math.ceil((5 * PIECE) / row.length)));
    const json = new ResultSerializer().toJson(big);
    expect(Buffer.isBuffer(json)).toBe(true);
    expect(text(json)).toBe(expected(big));
    expect(JSON.parse(text(json))).toEqual(big);
  });

  it('never splits a surrogate pair at a piece boundary, wherever it falls', () => {
    const serializer = new ResultSerializer();
    for (const offset of [-2, -1, 0, 1]) {
      // An emoji (two UTF-16 code units) straddling, ending at or starting at the first boundary.
      const body = 'a'.repeat(PIECE + offset) + '😀'.repeat(3) + 'é€'.repeat(PIECE) + '😀';
      expect(text(serializer.toJson(result(body))), `offset ${offset}`).toBe(expected(result(body)));
    }
  });

  it('escapes lone surrogates as JSON.stringify does, at a boundary too', () => {
    const body = 'x'.repeat(PIECE - 1) + '\ud83d' + 'y'.repeat(PIECE) + '\ude00' + 'z'.repeat(PIECE) + '\u2028\u2029';
    expect(text(new ResultSerializer().toJson(result(body)))).toBe(expected(result(body)));
    // A lone high surrogate last, at a piece boundary and not.
    for (const length of [3 * PIECE, 3 * PIECE + 5]) {
      const last = 'x'.repeat(length - 1) + '\ud83d';
      expect(text(new ResultSerializer().toJson(result(last))), `length ${length}`).toBe(expected(result(last)));
    }
  });

  it('matches JSON.stringify on random text of every length around the boundaries', () => {
    const alphabet = ['a', '"', '\\', '\n', '\u0000', 'é', '€', '😀', '\ud800', '\udc00', '<', ' '];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const serializer = new ResultSerializer();
    for (let round = 0; round < 40; round++) {
      const length = 2 * PIECE + random(3 * PIECE);
      let body = '';
      while (body.length < length) body += alphabet[random(alphabet.length)]!;
      expect(text(serializer.toJson(result(body)))).toBe(expected(result(body)));
    }
  });

  it('writes only the body when the result has no other field', () => {
    const body = 'b'.repeat(3 * PIECE);
    expect(text(new ResultSerializer().toJson({ body }))).toBe(JSON.stringify({ body }));
  });

  it('reuses its buffer for the next result without leftovers from a longer one', () => {
    const serializer = new ResultSerializer();
    const long = result('L'.repeat(10 * PIECE));
    const short = result('s'.repeat(3 * PIECE));
    expect(text(serializer.toJson(long))).toBe(expected(long));
    const second = serializer.toJson(short);
    expect(second.length).toBe(Buffer.byteLength(expected(short)));
    expect(text(second)).toBe(expected(short));
  });

  it('gives a payload over 1 MiB a buffer of its own, which the next call leaves alone', () => {
    const serializer = new ResultSerializer();
    const huge = result('H'.repeat(1024 * 1024 + 10));
    const first = serializer.toJson(huge) as Buffer;
    const copy = Buffer.from(first);
    serializer.toJson(result('n'.repeat(3 * PIECE)));
    serializer.toJson(result('G'.repeat(1024 * 1024 + 10)));
    expect(first.equals(copy)).toBe(true);
  });

  it('leaves a body of up to 2 × 32 K code units to one JSON.stringify, its fields in their order; a longer one is written piece by piece, body last', () => {
    const serializer = new ResultSerializer();
    const atLimit = { body: 'w'.repeat(2 * PIECE), statusCode: 200 };
    expect(serializer.toJson(atLimit)).toBe(JSON.stringify(atLimit));
    const over = { body: 'w'.repeat(2 * PIECE + 1), statusCode: 200 };
    const json = serializer.toJson(over);
    expect(Buffer.isBuffer(json)).toBe(true);
    expect(text(json)).toBe(expected(over));
  });

  it('keeps a surrogate pair whole at a boundary, whatever follows it, from U+10000 to U+10FFFF', () => {
    const serializer = new ResultSerializer();
    for (const pair of ['\ud800\udc00', '😀', '\udbff\udc00', '\udbff\udfff']) {
      // The pair's high half is the last code unit of the first piece; plain text after it.
      const body = 'a'.repeat(PIECE - 1) + pair + 'b'.repeat(2 * PIECE);
      const json = text(serializer.toJson(result(body)));
      expect(json, pair).toBe(expected(result(body)));
      expect(json, pair).not.toMatch(/\\ud[89ab]/);
    }
  });

  it('writes every payload up to 1 MiB into the one buffer it keeps, grown by doubling, never over 1 MiB', () => {
    const serializer = new ResultSerializer();
    const write = (body: string): Buffer => {
      const json = serializer.toJson({ body });
      expect(Buffer.isBuffer(json)).toBe(true);
      expect(text(json)).toBe(JSON.stringify({ body }));
      return json as Buffer;
    };
    // Buffers are compared by identity with ===: a failed toBe() on two 1 MiB ArrayBuffers would diff them.
    // {"body":"…"} is 11 bytes more than an ASCII body.
    const first = write('a'.repeat(3 * PIECE));
    expect(first.buffer.byteLength).toBeGreaterThanOrEqual(first.length);
    expect(first.buffer.byteLength).toBeLessThan(2 * first.length);
    // Shorter, then exactly as long: the same memory.
    expect(write('b'.repeat(2 * PIECE + 1)).buffer === first.buffer).toBe(true);
    expect(write('c'.repeat(3 * PIECE)).buffer === first.buffer).toBe(true);
    // Longer: a new buffer at least twice as large, which the next longer payload fits.
    const grown = write('d'.repeat(4 * PIECE));
    expect(grown.buffer === first.buffer).toBe(false);
    expect(write('e'.repeat(5 * PIECE)).buffer === grown.buffer).toBe(true);
    // Exactly 1 MiB is still written into the kept buffer, which is then 1 MiB.
    const mib = write('f'.repeat(1024 * 1024 - 11));
    expect(mib.length).toBe(1024 * 1024);
    expect(mib.buffer.byteLength).toBe(1024 * 1024);
    expect(write('g'.repeat(1024 * 1024 - 11)).buffer === mib.buffer).toBe(true);
    expect(write('h'.repeat(3 * PIECE)).buffer === mib.buffer).toBe(true);
  });

  it('moves the body last in an object without a prototype, as in a plain one', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { body: 'n"'.repeat(2 * PIECE), statusCode: 200 });
    const json = new ResultSerializer().toJson(bare);
    expect(Buffer.isBuffer(json)).toBe(true);
    expect(text(json)).toBe(expected(bare));
  });

  it('leaves a plain object with a toJSON() of its own, and a class instance, to JSON.stringify', () => {
    const serializer = new ResultSerializer();
    const long = 'q"'.repeat(2 * PIECE);
    const withToJson = { statusCode: 200, body: long, toJSON: () => ({ replaced: true }) };
    expect(serializer.toJson(withToJson)).toBe('{"replaced":true}');
    class Answer {
      body = long;
      statusCode = 200;
    }
    // Not moved: the body stays first, as JSON.stringify writes it.
    const instance = new Answer();
    expect(serializer.toJson(instance)).toBe(JSON.stringify(instance));
    expect(JSON.stringify(instance).startsWith('{"body":')).toBe(true);
  });

  it('leaves anything but a plain object with a long text body to JSON.stringify', () => {
    const serializer = new ResultSerializer();
    const long = 'q"'.repeat(2 * PIECE);
    class WithToJson {
      body = long;
      toJSON(): unknown {
        return { replaced: true };
      }
    }
    const cases: unknown[] = [new WithToJson(), [long], long, { body: Buffer.from('x') }, { body: null }, null, 42];
    for (const value of cases) expect(serializer.toJson(value)).toBe(JSON.stringify(value));
    const withDate = { when: new Date(0), body: long };
    expect(text(serializer.toJson(withDate))).toBe(expected(withDate));
  });
});
