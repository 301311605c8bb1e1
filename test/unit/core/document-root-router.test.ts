import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentRootRouter, type Route } from '../../../src/router/document-root-router.ts';

// Layout (base is a fresh temp folder; only `public` is the document root):
//   base/outside.php, base/secret.txt, base/outside-dir/{index.php,x.php,s.css}
//   public/index.php (front controller), public/INDEX.PHP, public/sub/other.php,
//   public/folder/index.php, public/noindex/readme.md, public/assets/{style.css,pixel.png},
//   public/.env, public/.git/config, public/.hidden/run.php, public/notes.txt, public/a b.php,
//   public/été.php, public/日本/ページ.php, public/dir.php/index.php (a folder named like a script),
//   public/link-secret.txt -> ../secret.txt, public/link-outside.php -> ../outside.php,
//   public/linkdir -> ../outside-dir, public/inner-link.css -> assets/style.css (stays inside),
//   public/folder/nested/index.php, public/alias-folder -> folder (stays inside),
//   public/loop-a -> loop-b -> loop-a (a symlink loop), public/dangling -> missing
/** PHP code under extensions that never run here: served as text, they would publish source and secrets. */
const PHP_SOURCE_FILES = ['view.phtml', 'config.inc', 'show.phps', 'app.phar', 'old.php5', 'older.php4', 'new.php7', 'LAYOUT.PHTML', 'Db.Inc'];

let base: string;
let root: string;
let router: DocumentRootRouter;

function write(relative: string, content = 'x'): void {
  const file = path.join(base, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'router-test-')));
  root = path.join(base, 'public');
  write('outside.php', '<?php echo "outside";');
  write('secret.txt', 'secret');
  write('outside-dir/index.php');
  write('outside-dir/x.php');
  write('outside-dir/s.css');
  write('public/index.php');
  write('public/INDEX.PHP');
  write('public/sub/other.php');
  write('public/folder/index.php');
  write('public/folder/nested/index.php');
  write('public/noindex/readme.md');
  write('public/assets/style.css', 'body{}');
  write('public/assets/pixel.png', '\x89PNG');
  write('public/.env', 'DB_PASSWORD=x');
  write('public/.git/config', '[core]');
  write('public/.hidden/run.php');
  write('public/notes.txt', 'notes');
  write('public/a b.php');
  write('public/été.php');
  write('public/日本/ページ.php');
  write('public/dir.php/index.php');
  for (const source of PHP_SOURCE_FILES) write(`public/lib/${source}`, '<?php $password = "secret";');
  write('public/lib/readme.txt', 'a text file next to them');
  write('public/lib/menu.inc.js', 'menu();');
  write('public/lib/app.phar.sha256', 'abc');
  symlinkSync('../secret.txt', path.join(root, 'link-secret.txt'));
  symlinkSync('../outside.php', path.join(root, 'link-outside.php'));
  symlinkSync('../outside-dir', path.join(root, 'linkdir'));
  symlinkSync('assets/style.css', path.join(root, 'inner-link.css'));
  symlinkSync('sub', path.join(root, 'alias-sub'));
  symlinkSync('folder', path.join(root, 'alias-folder'));
  symlinkSync('loop-b', path.join(root, 'loop-a'));
  symlinkSync('loop-a', path.join(root, 'loop-b'));
  symlinkSync('missing', path.join(root, 'dangling'));
  mkdirSync(path.join(root, 'linked-index'));
  symlinkSync('../../outside.php', path.join(root, 'linked-index', 'index.php'));
  router = new DocumentRootRouter(root, path.join(root, 'index.php'));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

function front(): Route {
  return { kind: 'script', scriptFilename: path.join(root, 'index.php'), scriptName: '/index.php', pathInfo: '' };
}
function script(relative: string, scriptName: string, pathInfo = ''): Route {
  return { kind: 'script', scriptFilename: path.join(root, relative), scriptName, pathInfo };
}
function staticFile(relative: string): Route {
  return { kind: 'static', filePath: path.join(root, relative) };
}

describe('DocumentRootRouter: ordinary routes', () => {
  it('exposes the real document root and the front controller', () => {
    expect(router.documentRoot).toBe(root);
    expect(router.frontController).toEqual(front());
  });

  it('routes / to the root index.php', () => {
    expect(router.route('/')).toEqual(script('index.php', '/index.php'));
  });

  it('runs an existing script', () => {
    expect(router.route('/sub/other.php')).toEqual(script('sub/other.php', '/sub/other.php'));
  });

  it('splits PATH_INFO off after the script', () => {
    expect(router.route('/sub/other.php/extra/path')).toEqual(script('sub/other.php', '/sub/other.php', '/extra/path'));
  });

  it('decodes PATH_INFO', () => {
    expect(router.route('/sub/other.php/a%20b/%C3%A9')).toEqual(script('sub/other.php', '/sub/other.php', '/a b/é'));
  });

  it("keeps a trailing slash after the script as PATH_INFO '/'", () => {
    expect(router.route('/sub/other.php/')).toEqual(script('sub/other.php', '/sub/other.php', '/'));
  });

  it('uses a folder index.php with or without the trailing slash', () => {
    const expected = script('folder/index.php', '/folder/index.php');
    expect(router.route('/folder')).toEqual(expected);
    expect(router.route('/folder/')).toEqual(expected);
  });

  it('gives a nested folder index.php its whole path as SCRIPT_NAME', () => {
    expect(router.route('/folder/nested/')).toEqual(script('folder/nested/index.php', '/folder/nested/index.php'));
    expect(router.route('/folder/nested')).toEqual(script('folder/nested/index.php', '/folder/nested/index.php'));
  });

  it('treats a folder named like a script as a folder', () => {
    expect(router.route('/dir.php/')).toEqual(script('dir.php/index.php', '/dir.php/index.php'));
  });

  it('sends a folder without index.php to the front controller', () => {
    expect(router.route('/noindex/')).toEqual(front());
    expect(router.route('/noindex')).toEqual(front());
  });

  it('sends missing paths to the front controller', () => {
    expect(router.route('/nofolder/x')).toEqual(front());
    expect(router.route('/missing.php')).toEqual(front());
    expect(router.route('/sub/missing.php/x')).toEqual(front());
  });

  it('serves static files', () => {
    expect(router.route('/assets/style.css')).toEqual(staticFile('assets/style.css'));
    expect(router.route('/assets/pixel.png')).toEqual(staticFile('assets/pixel.png'));
  });

  it('does not serve a static file followed by more path', () => {
    expect(router.route('/assets/style.css/x')).toEqual(front());
    expect(router.route('/notes.txt/more/path')).toEqual(front());
  });

  it('serves a .txt file as static, never as a script', () => {
    const route = router.route('/notes.txt');
    expect(route).toEqual(staticFile('notes.txt'));
    expect(route.kind).toBe('static');
  });

  it.each(PHP_SOURCE_FILES)('never serves PHP source %s as a static file: it goes to the front controller', (file) => {
    expect(router.route(`/lib/${file}`)).toEqual(front());
    expect(router.route(`/lib/${encodeURIComponent(file)}`)).toEqual(front());
  });

  it('still serves the other files of a folder that holds PHP sources', () => {
    expect(router.route('/lib/readme.txt')).toEqual(staticFile('lib/readme.txt'));
  });

  it('judges a file by its last extension: menu.inc.js and app.phar.sha256 are static files', () => {
    expect(router.route('/lib/menu.inc.js')).toEqual(staticFile('lib/menu.inc.js'));
    expect(router.route('/lib/app.phar.sha256')).toEqual(staticFile('lib/app.phar.sha256'));
  });

  it('runs upper-case .PHP files rather than serving their source', () => {
    expect(router.route('/INDEX.PHP')).toEqual(script('INDEX.PHP', '/INDEX.PHP'));
    expect(router.route('/INDEX.PHP/x')).toEqual(script('INDEX.PHP', '/INDEX.PHP', '/x'));
  });

  it('finds a file whose name has a space', () => {
    expect(router.route('/a%20b.php')).toEqual(script('a b.php', '/a b.php'));
  });

  it('finds unicode file names from their UTF-8 percent-encoding', () => {
    expect(router.route('/%C3%A9t%C3%A9.php')).toEqual(script('été.php', '/été.php'));
    expect(router.route('/%E6%97%A5%E6%9C%AC/%E3%83%9A%E3%83%BC%E3%82%B8.php/p')).toEqual(
      script('日本/ページ.php', '/日本/ページ.php', '/p'),
    );
  });

  it('collapses double slashes', () => {
    expect(router.route('//sub//other.php')).toEqual(script('sub/other.php', '/sub/other.php'));
    expect(router.route('/sub//other.php//x')).toEqual(script('sub/other.php', '/sub/other.php', '/x'));
  });

  it('removes single-dot segments and resolves dot-dot segments that stay inside', () => {
    expect(router.route('/./sub/./other.php')).toEqual(script('sub/other.php', '/sub/other.php'));
    expect(router.route('/folder/../sub/other.php')).toEqual(script('sub/other.php', '/sub/other.php'));
  });

  it('follows a symlink that stays inside the document root', () => {
    expect(router.route('/inner-link.css')).toEqual(staticFile('inner-link.css'));
  });

  it('follows a symlinked folder that stays inside the document root', () => {
    expect(router.route('/alias-sub/other.php/x')).toEqual(script('alias-sub/other.php', '/alias-sub/other.php', '/x'));
  });

  it('runs the index.php of a symlinked folder that stays inside the document root', () => {
    expect(router.route('/alias-folder/')).toEqual(script('alias-folder/index.php', '/alias-folder/index.php'));
  });
});

describe('DocumentRootRouter: paths the file system refuses to look up', () => {
  // A front-controller app's URLs name no file: a slug longer than a file name may be (255 bytes
  // on Linux) must reach the front controller as any other, not end the invocation with ENAMETOOLONG.
  it.each([
    ['a segment of 256 bytes', '/' + 'a'.repeat(256)],
    ['a long slug under a folder', '/folder/' + 'a-long-slug-'.repeat(30)],
    ['a long UTF-8 slug, percent-encoded', '/sub/' + '%C3%A9'.repeat(200)],
    ['a long segment after a script is PATH_INFO, not looked up', '/sub/other.php/' + 'x'.repeat(300)],
  ])('%s goes where a missing path goes', (_, requestPath) => {
    const expected = requestPath.startsWith('/sub/other.php/') ? script('sub/other.php', '/sub/other.php', '/' + 'x'.repeat(300)) : front();
    expect(router.route(requestPath)).toEqual(expected);
  });

  it('sends a symlink loop (ELOOP) to the front controller', () => {
    expect(router.route('/loop-a')).toEqual(front());
    expect(router.route('/loop-b/x.php')).toEqual(front());
    expect(router.route('/loop-a/')).toEqual(front());
  });

  it('sends a dangling symlink to the front controller', () => {
    expect(router.route('/dangling')).toEqual(front());
    expect(router.route('/dangling/')).toEqual(front());
  });
});

describe('DocumentRootRouter: nothing escapes or is exposed', () => {
  const hostile = [
    '/.env',
    '/.env/',
    '/.git/config',
    '/.git/',
    '/.hidden/run.php',
    '/.hidden/run.php/x',
    '/%2eenv',
    '/%2egit/config',
    '/sub/.%2e/../outside.php',
    '/%2e%2e/outside.php',
    '/..%2foutside.php',
    '/..%2Foutside.php',
    '/../outside.php',
    '/../../../../outside.php',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/sub/%2e%2e/%2e%2e/secret',
    '/sub/other.php%2f..%2f..%2foutside.php',
    '/index.php%00.txt',
    '/notes.txt%00',
    '/sub%00/other.php',
    '/%zz',
    '/sub/other.php/%zz',
    '/%E9t%E9.php',
    '/sub\\other.php',
    '/sub%5cother.php',
    '/..%5c..%5coutside.php',
    '/link-secret.txt',
    '/link-outside.php',
    '/link-outside.php/x',
    '/linkdir',
    '/linkdir/',
    '/linkdir/index.php',
    '/linkdir/x.php',
    '/linkdir/x.php/info',
    '/linkdir/s.css',
    '/linked-index/',
    '/linked-index/index.php',
  ];

  it.each(hostile)('%s goes to the front controller', (requestPath) => {
    expect(router.route(requestPath)).toEqual(front());
  });

  it('never returns a path outside the document root for any of them', () => {
    for (const requestPath of hostile) {
      const route = router.route(requestPath);
      const file = route.kind === 'static' ? route.filePath : route.scriptFilename;
      expect(realpathSync(file).startsWith(root + path.sep)).toBe(true);
    }
  });
});

describe('DocumentRootRouter: construction', () => {
  it('resolves a symlinked document root, so SCRIPT_FILENAME and DOCUMENT_ROOT agree', () => {
    const alias = path.join(base, 'alias');
    symlinkSync(root, alias);
    const aliased = new DocumentRootRouter(alias, path.join(alias, 'index.php'));
    expect(aliased.documentRoot).toBe(root);
    expect(aliased.frontController).toEqual(front());
    expect(aliased.route('/sub/other.php')).toEqual(script('sub/other.php', '/sub/other.php'));
    expect(aliased.route('/linkdir/x.php')).toEqual(front());
  });

  it('builds paths with single slashes when the document root is / itself', () => {
    const fromSlash = new DocumentRootRouter('/', path.join(root, 'index.php'));
    expect(fromSlash.documentRoot).toBe('/');
    expect(fromSlash.route(`${root}/sub/other.php/x`)).toEqual({
      kind: 'script',
      scriptFilename: path.join(root, 'sub/other.php'),
      scriptName: `${root}/sub/other.php`,
      pathInfo: '/x',
    });
    expect(fromSlash.route(`${root}/folder/`)).toEqual({
      kind: 'script',
      scriptFilename: path.join(root, 'folder/index.php'),
      scriptName: `${root}/folder/index.php`,
      pathInfo: '',
    });
  });

  it('accepts a front controller in a sub-folder of the root', () => {
    const r = new DocumentRootRouter(root, path.join(root, 'sub', 'other.php'));
    const subFront: Route = { kind: 'script', scriptFilename: path.join(root, 'sub/other.php'), scriptName: '/sub/other.php', pathInfo: '' };
    expect(r.frontController).toEqual(subFront);
    expect(r.route('/nope')).toEqual(subFront);
    expect(r.route('/.env')).toEqual(subFront);
    // The root folder's own index.php still answers '/'.
    expect(r.route('/')).toEqual(script('index.php', '/index.php'));
  });
});
