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
