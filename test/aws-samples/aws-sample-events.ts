import { readdirSync, readFileSync } from 'node:fs';
import type { HeaderMap } from '../../src/http/http-message.ts';

/**
 * The sample events AWS publishes (aws-lambda-go, aws-lambda-rust-runtime), as the project's
 * machines keep them beside the repository in ../shared/events (see its README.md). Not part of the
 * repository: only this suite (vitest.aws-samples.config.ts) reads them.
 */
export const SAMPLE_EVENTS_DIR = new URL('../../../shared/events/', import.meta.url);

/** Every sample, as 'folder/file.json'. */
export function listSampleEvents(): string[] {
  return readdirSync(SAMPLE_EVENTS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.split('\\').join('/'))
    .sort();
}

/** A fresh copy each time, so a test may change it freely. */
export function loadSampleEvent(file: string): any {
  return JSON.parse(readFileSync(new URL(file, SAMPLE_EVENTS_DIR), 'utf8'));
}

export function headersAsObject(headers: HeaderMap): Record<string, string[]> {
  return Object.fromEntries(headers);
}
