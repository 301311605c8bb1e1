import type { PhpMode } from './bootstrap-child.ts';
import type { ComparePlan } from './compare.ts';
import type { PageName } from './pages.ts';

export interface BenchOptions {
  /** Measured warm invocations per path, FastCGI mode. */
  fastcgi: Record<PageName, number>;
  /** The same in CGI mode (a php-cgi process each: much slower). */
  cgi: Record<PageName, number>;
  /** Unmeasured invocations per path before measuring. */
  warmup: Record<PhpMode, number>;
  /** The paths take turns, this many times, so that drift on the machine hits them all alike. */
  rounds: number;
  coldStarts: number;
  modes: PhpMode[];
  pages: PageName[];
  /** Warm runs on one CPU (everything this process starts shares it) or wherever the scheduler likes. */
  cpus: 'one' | 'all';
  /** CPU-profile the bootstrap and the emulator and print where their time goes. */
  profile: boolean;
  /** Another runtime's bootstrap to measure side by side with ours (--compare). */
  compare: string | undefined;
  /** Only the side-by-side comparison, not the detailed tables. */
  compareOnly: boolean;
  /** The side-by-side comparison's sizes. */
  comparePlan: ComparePlan;
  help: boolean;
}

export const USAGE = `Usage: node bench/run.mjs [options]     (./run bench [options], npm run bench)

Benchmarks dist/bootstrap.js (build it first: node scripts/build.mjs) through a local Runtime API,
against php-cgi run directly (CGI) and a bare FastCGI request loop, and side by side with another
runtime (--compare).

  --compare B      first, measure another runtime's bootstrap B (an executable, or a .js file run with
                   this Node) side by side with ours, unpinned, alternating: warm hello and heavy p50/p99
                   (2000 / 500 invocations each), cold starts (init and first response, 7 each), peak
                   memory in a 128 MB memory cgroup over 10000 invocations; prints the ratios
  --compare-only   only that comparison, not the detailed tables below it

  --iterations N   warm invocations of the hello page in FastCGI mode (default 3000); the heavy page
                   gets N/3, CGI mode N/6 per page
  --quick          a short run: 300 / 100 / 50 iterations, 3 cold starts (rougher figures); with
                   --compare, 500 / 150 invocations, 3 cold starts, 2000 in the memory cgroup
  --cold N         cold starts per mode (default 10)
  --mode M         fastcgi, cgi or both (default both)
  --page P         hello, heavy or both (default both)
  --rounds N       interleaved rounds per measurement (default 5)
  --cpus C         all (default): nothing is pinned, as on Lambda; one: the detailed warm runs and the
                   profiles pin this process, the bootstrap, php-cgi and the references to one CPU, so that
                   hand-overs between processes are context switches rather than cross-CPU wake-ups
                   (40-60 µs each on these VMs): for profiling. Cold starts and --compare are never pinned
  --profile        also CPU-profile the bootstrap (FastCGI, hello and heavy) and the emulator, and print the
                   functions and files that take the time
  -h, --help       this text

Always exits 0 when the runtime answered correctly, whatever the figures (PASS/MISS is informative);
exits 1 on a function error, a wrong body, or when something cannot run at all.`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    fastcgi: { hello: 3000, heavy: 1000 },
    cgi: { hello: 500, heavy: 500 },
    warmup: { fastcgi: 200, cgi: 10 },
    rounds: 5,
    coldStarts: 10,
    modes: ['fastcgi', 'cgi'],
    pages: ['hello', 'heavy'],
    cpus: 'all',
    profile: false,
    compare: undefined,
    compareOnly: false,
    comparePlan: { invocations: { hello: 2000, heavy: 500 }, warmup: 300, rounds: 10, coldStarts: 7, memoryInvocations: 10_000, memoryLimitMb: 128 },
    help: false,
  };
  const value = (i: number, flag: string): string => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
    return next;
  };
  const count = (text: string, flag: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new Error(`${flag} must be a whole number from 1 to 1000000, not '${text}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case '--iterations': {
        const n = count(value(i++, flag), flag);
        options.fastcgi = { hello: n, heavy: Math.ceil(n / 3) };
        options.cgi = { hello: Math.ceil(n / 6), heavy: Math.ceil(n / 6) };
        break;
      }
      case '--quick':
        options.fastcgi = { hello: 300, heavy: 100 };
        options.cgi = { hello: 50, heavy: 50 };
        // The warm-up stays long enough for V8 to have optimised the hot path: it is what the figures are about.
        options.warmup = { fastcgi: 300, cgi: 3 };
        options.coldStarts = 3;
        options.rounds = 3;
        options.comparePlan = { ...options.comparePlan, invocations: { hello: 500, heavy: 150 }, warmup: 200, rounds: 4, coldStarts: 3, memoryInvocations: 2000 };
        break;
      case '--cold':
        options.coldStarts = count(value(i++, flag), flag);
        options.comparePlan.coldStarts = options.coldStarts;
        break;
      case '--compare':
        options.compare = value(i++, flag);
        break;
      case '--compare-only':
        options.compareOnly = true;
        break;
      case '--rounds':
        options.rounds = count(value(i++, flag), flag);
        break;
      case '--mode': {
        const mode = value(i++, flag);
        if (mode !== 'fastcgi' && mode !== 'cgi' && mode !== 'both') throw new Error(`--mode must be fastcgi, cgi or both, not '${mode}'`);
        options.modes = mode === 'both' ? ['fastcgi', 'cgi'] : [mode];
        break;
      }
      case '--page': {
        const page = value(i++, flag);
        if (page !== 'hello' && page !== 'heavy' && page !== 'both') throw new Error(`--page must be hello, heavy or both, not '${page}'`);
        options.pages = page === 'both' ? ['hello', 'heavy'] : [page];
        break;
      }
      case '--cpus': {
        const cpus = value(i++, flag);
        if (cpus !== 'one' && cpus !== 'all') throw new Error(`--cpus must be one or all, not '${cpus}'`);
        options.cpus = cpus;
        break;
      }
      case '--profile':
        options.profile = true;
        break;
      case '-h':
      case '--help':
        options.help = true;
        break;
      default:
        throw new Error(`unknown option '${flag}'\n\n${USAGE}`);
    }
  }
  return options;
}
