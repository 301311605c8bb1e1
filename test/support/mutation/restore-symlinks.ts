/**
 * A global setup of vitest.mutation.config.ts only. Stryker copies the project into a sandbox
 * (.stryker-tmp/sandbox-*, inside the repository) and copies a symbolic link as a plain file
 * holding its target's bytes: the probe app's public/link-to-secret.txt would then be served, and
 * the test that the runtime never follows a link out of the document root would fail for the
 * sandbox's sake. This puts back, in the sandbox, every link the repository's index holds.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export default function restoreSymlinks(): void {
  const sandbox = process.cwd();
  let repository: string;
  try {
    repository = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: sandbox, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return; // not in a git checkout: no index to read the links from
  }
  if (path.resolve(repository) === sandbox) return; // not in a sandbox: the links are links
  // `git ls-files -s`: "<mode> <object> <stage>\t<path>"; mode 120000 is a symbolic link, its blob the target.
  const entries = execFileSync('git', ['ls-files', '-s', '-z'], { cwd: repository, encoding: 'utf8' }).split('\0');
  for (const entry of entries) {
    const [info, file] = entry.split('\t');
    if (!info?.startsWith('120000 ') || file === undefined) continue;
    const object = info.split(' ')[1]!;
    const target = execFileSync('git', ['cat-file', 'blob', object], { cwd: repository, encoding: 'utf8' });
    const copy = path.join(sandbox, file);
    try {
      if (lstatSync(copy).isSymbolicLink()) continue;
    } catch {
      continue; // not copied into the sandbox (an ignored folder)
    }
    rmSync(copy);
    symlinkSync(target, copy);
  }
}
