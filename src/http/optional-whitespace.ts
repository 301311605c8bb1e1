/**
 * HTTP's optional whitespace (OWS, RFC 9110 §5.5): space and tab, the only white space allowed
 * around a field value. String.prototype.trim() takes more: U+00A0, which a latin1-decoded header
 * holds wherever UTF-8 has the byte 0xA0 ('à' is c3 a0), and the other Unicode spaces.
 */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** text[start, end) without the OWS around it. */
export function trimOws(text: string, start = 0, end = text.length): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
