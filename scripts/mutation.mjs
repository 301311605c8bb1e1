// `npm run mutation -- [folder ...] [stryker options]`: mutation testing of the runtime's core
// folders with Stryker (stryker.config.mjs), one Stryker run per folder, in turn, then a table of
// the score per folder. Each folder keeps its own incremental file (reports/mutation/<folder>/
// incremental.json): a re-run only tests the mutants whose code or covering tests changed.
// `--force` runs every mutant again. See the README's "Mutation testing".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MUTATED_FOLDERS } from './mutation-folders.mjs';

const args = process.argv.slice(2);
// Folders first, then Stryker's options: from a `--`, or else from the first option (npm passes
// `npm run mutation -- cgi --force` on as `cgi --force`).
const separator = args.indexOf('--');
const firstOption = args.findIndex((arg) => arg.startsWith('-'));
const split = separator >= 0 ? separator : firstOption >= 0 ? firstOption : args.length;
const named = args.slice(0, split);
const strykerArgs = args.slice(separator >= 0 ? separator + 1 : split);
for (const folder of named) {
  if (!MUTATED_FOLDERS.includes(folder)) {
    console.error(`mutation: unknown folder ${folder}; the folders are ${MUTATED_FOLDERS.join(', ')}`);
    process.exit(2);
  }
}
const folders = named.length > 0 ? named : MUTATED_FOLDERS;
const stryker = path.resolve('node_modules/.bin/stryker');

let failed = false;
const times = new Map();
for (const folder of folders) {
  console.log(`\n=== mutation testing src/${folder}`);
  const started = Date.now();
  const run = spawnSync(stryker, ['run', ...strykerArgs], { stdio: 'inherit', env: { ...process.env, LAMBDA_PHP_MUTATION_FOLDER: folder } });
  times.set(folder, Date.now() - started);
  if (run.status !== 0) {
    console.error(`mutation: Stryker failed on src/${folder} (${run.signal ?? `exit ${run.status}`})`);
    failed = true;
  }
}

console.log('\nfolder        score  killed  (by a test timeout)  timeout  survived  no cov  compile errors  refused kills  run time');
for (const folder of folders) {
  const report = `reports/mutation/${folder}/mutation.json`;
  if (!existsSync(report)) continue;
  const counts = countStatuses(JSON.parse(readFileSync(report, 'utf8')));
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  const score = valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)}%`;
  const refusals = refusedKills(folder);
  const minutes = `${(times.get(folder) / 60_000).toFixed(1)} min`;
  const row = [
    `src/${folder}`.padEnd(13),
    score.padStart(6),
    String(counts.Killed).padStart(7),
    String(counts.KilledByTimeout).padStart(20),
    String(counts.Timeout).padStart(8),
    String(counts.Survived).padStart(9),
    String(counts.NoCoverage).padStart(7),
    String(counts.CompileError).padStart(15),
    String(refusals).padStart(14),
    minutes.padStart(9),
  ];
  console.log(row.join(' '));
}
console.log(
  [
    'A kill "by a test timeout" is a test that failed by its own time limit: the mutant made something hang, which is a',
    'real fault but says less than an assertion; "timeout" is Stryker stopping a run that took too long. "Refused kills"',
    'are signals a mutant tried to send to processes the run did not start (test/support/mutation/kill-guard.mjs).',
    'The surviving mutants no test can kill are listed, each with its reason, in mutation-baseline.md.',
  ].join('\n'),
);
process.exit(failed ? 1 : 0);

function countStatuses(report) {
  const counts = { Killed: 0, KilledByTimeout: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) {
    for (const mutant of file.mutants) {
      counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
      if (mutant.status === 'Killed' && /timed out/i.test(mutant.statusReason ?? '')) counts.KilledByTimeout++;
    }
  }
  return counts;
}

/** Signals kill-guard.mjs refused during the folder's last run: one line each. */
function refusedKills(folder) {
  const log = `reports/mutation/${folder}/refused-kills.log`;
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
}
