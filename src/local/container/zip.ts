import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * Just enough of the zip format to read a Lambda layer: the central directory, stored and deflated
 * entries, Unix modes and symlinks. No dependency and no `unzip` binary (a fresh machine may lack
 * it). Zip64 archives are refused: a layer is far below 4 GiB.
 */

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Unix mode (type and permission bits), 0 when the archive was not made on Unix. */
  mode: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_MARK = 0xffffffff;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export class ZipArchive {
  readonly entries: ZipEntry[];
  readonly #fd: number;
  readonly #file: string;

  private constructor(file: string, fd: number, entries: ZipEntry[]) {
    this.#file = file;
    this.#fd = fd;
    this.entries = entries;
  }

  static open(file: string): ZipArchive {
    const fd = openSync(file, 'r');
    try {
      return new ZipArchive(file, fd, readCentralDirectory(file, fd));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }

  entry(name: string): ZipEntry | undefined {
    return this.entries.find((entry) => entry.name === name || entry.name === `${name}/`);
  }

  /** The uncompressed bytes of one entry. */
  read(entry: ZipEntry): Buffer {
    const header = readAt(this.#fd, entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new Error(`${this.#file}: bad local header for ${entry.name}`);
    const dataOffset = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = readAt(this.#fd, dataOffset, entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) return inflateRawSync(raw);
    throw new Error(`${this.#file}: ${entry.name} uses compression method ${entry.method}, only stored and deflate are supported`);
  }

  /** Extracts every entry under dest, keeping Unix permissions and symlinks. */
  extractTo(destination: string): void {
    const dest = path.resolve(destination);
    mkdirSync(dest, { recursive: true });
    const directories: Array<[string, number]> = [];
    for (const entry of this.entries) {
      const target = safeJoin(dest, entry.name);
      const type = entry.mode & S_IFMT;
      const permissions = entry.mode & 0o7777;
      if (entry.name.endsWith('/') || type === S_IFDIR) {
        mkdirSync(target, { recursive: true });
        if (permissions) directories.push([target, permissions]);
        continue;
      }
      mkdirSync(path.dirname(target), { recursive: true });
      const data = this.read(entry);
      if (type === S_IFLNK) {
        symlinkSync(data.toString('utf8'), target);
        continue;
      }
      writeFileSync(target, data, { mode: permissions || 0o644 });
      // writeFileSync's mode is filtered by the umask; the archive's bits are what the layer means.
      if (permissions) chmodSync(target, permissions);
    }
    // Directory modes last: a read-only directory would refuse the files going into it.
    for (const [dir, permissions] of directories.reverse()) chmodSync(dir, permissions);
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw new Error('unexpected end of zip file');
    done += n;
  }
  return buffer;
}

function readCentralDirectory(file: string, fd: number): ZipEntry[] {
  const size = fstatSync(fd).size;
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || directorySize === ZIP64_MARK || directoryOffset === ZIP64_MARK) throw new Error(`${file}: zip64 archives are not supported`);
  const directory = readAt(fd, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error(`${file}: bad central directory entry ${i}`);
    const madeOnUnix = directory.readUInt8(at + 5) === 3;
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      mode: madeOnUnix ? directory.readUInt32LE(at + 38) >>> 16 : 0,
      localHeaderOffset: directory.readUInt32LE(at + 42),
    };
    if (entry.compressedSize === ZIP64_MARK || entry.size === ZIP64_MARK || entry.localHeaderOffset === ZIP64_MARK) {
      throw new Error(`${file}: zip64 entries are not supported (${entry.name})`);
    }
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function safeJoin(dest: string, name: string): string {
  const target = path.resolve(dest, name);
  if (path.isAbsolute(name) || (target !== dest && !target.startsWith(dest + path.sep))) throw new Error(`zip entry ${name} points outside the destination`);
  return target;
}
