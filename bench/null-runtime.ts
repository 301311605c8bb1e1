/**
 * A custom runtime that answers every event with the same result, read once from BENCH_RESULT_FILE:
 * the bootstrap's own Runtime API client and loop (src/runtime-api, src/runtime/runtime-loop.ts) with
 * PHP and the event handling taken out. What it costs is the floor for any runtime built this way.
 */
import { readFileSync } from 'node:fs';
import { RuntimeApiClient } from '../src/runtime-api/runtime-api-client.ts';
import { runLoop } from '../src/runtime/runtime-loop.ts';

const result: unknown = JSON.parse(readFileSync(process.env.BENCH_RESULT_FILE ?? '', 'utf8'));
const client = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API ?? '');
process.once('SIGTERM', () => process.exit(0));
await runLoop(client, async () => result, { write: () => {} });
