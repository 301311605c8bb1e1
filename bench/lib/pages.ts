import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The two PHP pages the benchmark serves, each the index.php of a task root of its own. */

export type PageName = 'hello' | 'heavy';

export interface Page {
  name: PageName;
  title: string;
  source: string;
  /** Throws unless `body` is what this page prints. */
  verify(body: string): void;
}

const HELLO_BODY = 'Hello World!';
const HEAVY_ROWS = 2000;

export const PAGES: Record<PageName, Page> = {
  hello: {
    name: 'hello',
    title: 'hello world',
    source: '<?php echo "Hello World!";\n',
    verify(body) {
      if (body !== HELLO_BODY) throw new Error(`hello: expected the body ${JSON.stringify(HELLO_BODY)}, got ${JSON.stringify(body.slice(0, 200))}`);
    },
  },
  heavy: {
    name: 'heavy',
    title: `heavy (${HEAVY_ROWS}-row table)`,
    // A report page built in loops: string building, escaping, number formatting; ~300 KB of HTML.
    source: `<?php
$rows = ${HEAVY_ROWS};
$statuses = ['active', 'pending', 'suspended'];
echo "<!DOCTYPE html>\\n<html><head><meta charset=\\"utf-8\\"><title>Accounts</title></head><body>\\n";
echo "<h1>Accounts</h1>\\n<table class=\\"report\\">\\n<thead><tr><th>#</th><th>Name</th><th>E-mail</th><th>Balance</th><th>Status</th><th>Since</th></tr></thead>\\n<tbody>\\n";
$total = 0.0;
for ($i = 1; $i <= $rows; $i++) {
    $name = 'Customer ' . str_pad((string) $i, 5, '0', STR_PAD_LEFT) . ' & Sons <Ltd>';
    $balance = ($i * 7919 % 100000) / 100;
    $total += $balance;
    printf(
        "<tr class=\\"%s\\"><td>%d</td><td>%s</td><td><a href=\\"mailto:%s\\">%s</a></td><td>%s</td><td>%s</td><td>%s</td></tr>\\n",
        $i % 2 === 0 ? 'even' : 'odd',
        $i,
        htmlspecialchars($name),
        "customer$i@example.com",
        "customer$i@example.com",
        number_format($balance, 2),
        $statuses[$i % 3],
        date('Y-m-d', 1500000000 + $i * 86400)
    );
}
echo "</tbody>\\n<tfoot><tr><td colspan=\\"3\\">Total</td><td>" . number_format($total, 2) . "</td><td colspan=\\"2\\"></td></tr></tfoot>\\n</table>\\n</body></html>\\n";
`,
    verify(body) {
      const rows = body.split('<tr class=').length - 1;
      if (rows !== HEAVY_ROWS || !body.endsWith('</html>\n')) {
        throw new Error(`heavy: expected ${HEAVY_ROWS} rows and a complete page, got ${rows} rows in ${body.length} bytes ending ${JSON.stringify(body.slice(-80))}`);
      }
    },
  },
};

export interface TaskRoots {
  dir: string;
  taskRoot(page: PageName): string;
  remove(): void;
}

/** A temporary folder with one task root per page: <dir>/<page>/index.php. */
export function makeTaskRoots(): TaskRoots {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lambda-php-bench-'));
  // Readable by all, as /var/task is on Lambda: a runtime may run PHP as another user (PHP-FPM's
  // workers run as nobody), and mkdtemp makes the folder private.
  chmodSync(dir, 0o755);
  for (const page of Object.values(PAGES)) {
    mkdirSync(path.join(dir, page.name));
    writeFileSync(path.join(dir, page.name, 'index.php'), page.source);
  }
  return {
    dir,
    taskRoot: (page) => path.join(dir, page),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
