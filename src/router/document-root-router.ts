import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** Where a request path leads inside the document root. */
export type Route =
  | { kind: 'static'; filePath: string }
  | {
      kind: 'script';
      /** Absolute path of the PHP file to run. */
      scriptFilename: string;
      /** URL path of that file, from the document root ('/sub/other.php'). */
      scriptName: string;
      /** Decoded rest of the path after the script ('/extra'), '' when there is none. */
      pathInfo: string;
    };

/**
 * Maps URL paths onto the document root the way a PHP developer expects from Apache or nginx with
 * a front controller: an existing `.php` file runs (with PATH_INFO split off), an existing static
 * file is served, a folder uses its `index.php`, and everything else goes to the front controller.
 *
 * Safety rules, each of which sends the request to the front controller rather than to the file:
 * nothing resolves outside the document root (dot segments are removed before the lookup and every
 * hit is checked again after symlinks are resolved), no path segment starting with '.' is looked up
 * (dotfiles such as .env, dot-folders such as .git), only `.php` files ever run as PHP, and a
 * hidden script (the event script, PHP_EVENT_HANDLER) is as if it were not there.
 */
export interface DocumentRootRouterOptions {
  /**
   * Scripts that must never run for an HTTP request, wherever they are: requests for them go to
   * the front controller. The event script trusts its input to be an AWS event; were it reachable
   * over HTTP, anyone could post it a forged SQS batch.
   */
  hiddenScripts?: readonly string[];
}

export class DocumentRootRouter {
  readonly #root: string;
  readonly #frontController: Route;
  /** Real paths of the hidden scripts that are inside the document root (the others cannot be reached). */
  readonly #hidden: ReadonlySet<string>;

  constructor(documentRoot: string, frontControllerPath: string, options: DocumentRootRouterOptions = {}) {
    this.#root = realpathSync(documentRoot);
    const front = path.resolve(this.#root, path.relative(documentRoot, frontControllerPath));
    this.#frontController = {
      kind: 'script',
      scriptFilename: front,
      scriptName: '/' + path.relative(this.#root, front).split(path.sep).join('/'),
      pathInfo: '',
    };
    const hidden = new Set<string>();
    for (const script of options.hiddenScripts ?? []) {
      const real = realpathOrUndefined(script);
      if (real !== undefined && real.startsWith(this.#root + path.sep) && real !== front) hidden.add(real);
    }
    this.#hidden = hidden;
  }

  /** The document root with symlinks resolved: SCRIPT_FILENAME and DOCUMENT_ROOT agree on it. */
  get documentRoot(): string {
    return this.#root;
  }

  get frontController(): Route {
    return this.#frontController;
  }

  route(encodedPath: string): Route {
    const segments = decodedSegments(encodedPath);
    if (segments === undefined || segments.some((s) => s.startsWith('.'))) return this.#frontController;

    // '/' as the root would otherwise give '//name'.
    let current = this.#root === '/' ? '' : this.#root;
    // Each component is lstat'ed from the (real) root down: as long as none is a symlink, the path
    // cannot lead outside, and the realpath check is only needed once one is.
    let viaSymlink = false;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      current = `${current}/${segment}`;
      const entry = this.#entry(current);
      if (entry === undefined) return this.#frontController;
      viaSymlink ||= entry.symlink;
      if (entry.stats.isDirectory()) continue;
      if (!entry.stats.isFile() || (viaSymlink && !this.#isInside(current))) return this.#frontController;

      const urlPath = '/' + segments.slice(0, i + 1).join('/');
      if (isPhpFile(segment)) {
        if (this.#isHidden(current, viaSymlink)) return this.#frontController;
        const rest = segments.slice(i + 1);
        const pathInfo = rest.length > 0 ? '/' + rest.join('/') : trailingSlash(encodedPath);
        return { kind: 'script', scriptFilename: current, scriptName: urlPath, pathInfo };
      }
      // A static file followed by more path ('/style.css/x', '/style.css/') is not that file, and
      // PHP sources under other extensions are never handed out as text.
      const isLast = i === segments.length - 1 && !encodedPath.endsWith('/');
      return isLast && !isPhpSource(segment) ? { kind: 'static', filePath: current } : this.#frontController;
    }

    // The path names a folder (or the root): its index.php, if it has one.
    const index = `${current}/index.php`;
    const entry = this.#entry(index);
    if (entry?.stats.isFile() && (!(viaSymlink || entry.symlink) || this.#isInside(index)) && !this.#isHidden(index, viaSymlink || entry.symlink)) {
      const folder = segments.length > 0 ? '/' + segments.join('/') : '';
      return { kind: 'script', scriptFilename: index, scriptName: `${folder}/index.php`, pathInfo: '' };
    }
    return this.#frontController;
  }

  /** What is at `filePath` (symlinks followed) and whether it is a symlink; undefined if nothing. */
  #entry(filePath: string): { stats: Stats; symlink: boolean } | undefined {
    try {
      // throwIfNoEntry: a missing path (every pretty URL) is the common case, not worth an exception.
      const stats = lstatSync(filePath, { throwIfNoEntry: false });
      if (stats === undefined || !stats.isSymbolicLink()) return stats && { stats, symlink: false };
      const target = statSync(filePath, { throwIfNoEntry: false });
      return target && { stats: target, symlink: true };
    } catch {
      // Nothing that can be served either: a segment longer than a file name may be (ENAMETOOLONG,
      // a long slug meant for the front controller), a symlink loop (ELOOP), a folder we may not read.
      return undefined;
    }
  }

  /**
   * Whether `filePath` is a hidden script, under any name. Without a symlink on the way, the path
   * built from the real root is the real path already; through one, it is resolved.
   */
  #isHidden(filePath: string, viaSymlink: boolean): boolean {
    if (this.#hidden.size === 0) return false;
    return this.#hidden.has(viaSymlink ? (realpathOrUndefined(filePath) ?? filePath) : filePath);
  }

  /** Symlinks may point anywhere: the real location must still be inside the document root. */
  #isInside(filePath: string): boolean {
    try {
      // The native realpath is one system call; the JS one lstat()s every path component.
      // Only files are checked, so the real path is never the root itself.
      return realpathSync.native(filePath).startsWith(this.#root + path.sep);
    } catch {
      return false;
    }
  }
}

function realpathOrUndefined(filePath: string): string | undefined {
  try {
    return realpathSync.native(filePath);
  } catch {
    return undefined;
  }
}

/**
 * Percent-decodes each segment once and removes dot segments (RFC 3986 §5.2.4), so that '..' can
 * never climb above the root, whatever its encoding ('%2e%2e', '..%2f'). A segment that decodes to
 * something containing '/', '\0' or '..' is refused: no file can be reached that way legitimately.
 */
function decodedSegments(encodedPath: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of encodedPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment.includes('/') || segment.includes('\0') || segment.includes('\\')) return undefined;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out;
}

/** '/script.php/' keeps its trailing slash as PATH_INFO '/', as Apache does. */
function trailingSlash(encodedPath: string): string {
  return encodedPath.endsWith('/') ? '/' : '';
}

function isPhpFile(name: string): boolean {
  // Case-insensitive so that 'INDEX.PHP' runs rather than being served as source code. A segment
  // named '.php' never gets here: route() refuses every segment starting with a dot.
  return name.toLowerCase().endsWith('.php');
}

/** Extensions that hold PHP code but never run here: serving them would publish source and secrets. */
const PHP_SOURCE = /\.(phtml|php\d|phps|phar|inc)$/i;

function isPhpSource(name: string): boolean {
  return PHP_SOURCE.test(name);
}
