/**
 * The platform lines Lambda writes to a function's log around each invocation, in Lambda's own format
 * (tab-separated fields), so that local output reads like CloudWatch.
 */

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  memoryMb: number;
  /** undefined where it cannot be measured: then the memory size is shown, as AWS's RIE does. */
  maxMemoryUsedMb: number | undefined;
  /** Only on the first invocation of a sandbox. */
  initDurationMs?: number;
  /** 'timeout' or 'error' when the invocation did not end normally. */
  status?: 'timeout' | 'error';
  /** Shown in the text line with the error status only; a JSON report has it for every failed invocation. */
  errorType?: string;
}

export function reportLine(fields: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${fields.durationMs.toFixed(2)} ms`,
    // Custom runtimes are billed for their init too.
    `Billed Duration: ${Math.ceil(fields.durationMs + (fields.initDurationMs ?? 0))} ms`,
    `Memory Size: ${fields.memoryMb} MB`,
    `Max Memory Used: ${fields.maxMemoryUsedMb ?? fields.memoryMb} MB`,
  ];
  if (fields.initDurationMs !== undefined) parts.push(`Init Duration: ${fields.initDurationMs.toFixed(2)} ms`);
  if (fields.status) parts.push(`Status: ${fields.status}`);
  if (fields.status === 'error' && fields.errorType) parts.push(`Error Type: ${fields.errorType}`);
  return parts.join('\t');
}

/** Written when an init fails, before the invocation that reports it. */
export function initReportLine(initDurationMs: number, errorType: string): string {
  return [`INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms`, 'Phase: init', 'Status: error', `Error Type: ${errorType}`].join('\t');
}

/** "3.00 seconds": Lambda always shows the timeout with two decimals. */
export function timeoutSeconds(timeoutMs: number): string {
  return `${(timeoutMs / 1000).toFixed(2)} seconds`;
}

export function timedOutLine(requestId: string, timeoutMs: number, at = new Date()): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${timeoutSeconds(timeoutMs)}`;
}

/**
 * The function's log format (AWS_LAMBDA_LOG_FORMAT): with JSON, Lambda writes its own platform
 * lines as JSON records too (`{"time", "type": "platform.start", "record": {...}}`), with the
 * Telemetry API's event types and fields. At the default system log level (INFO) these are
 * platform.start, platform.report and platform.initReport; END's counterpart, platform.runtimeDone,
 * is a DEBUG event and is not written.
 */
export type PlatformLogFormat = 'text' | 'json';

/** The format a function's environment asks for: AWS_LAMBDA_LOG_FORMAT=JSON (any case), else text. */
export function platformLogFormat(env: Readonly<Record<string, string | undefined>>): PlatformLogFormat {
  return env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON' ? 'json' : 'text';
}

/** Lambda's platform lines in the function's log format, written through `write`. */
export class PlatformLog {
  constructor(
    private readonly write: (line: string) => void,
    readonly format: PlatformLogFormat,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(requestId: string, version: string): void {
    this.write(this.format === 'text' ? startLine(requestId, version) : this.#record('platform.start', { requestId, version }));
  }

  end(requestId: string): void {
    if (this.format === 'text') this.write(endLine(requestId));
  }

  report(fields: ReportFields): void {
    if (this.format === 'text') return this.write(reportLine(fields));
    const metrics: Record<string, number> = {
      durationMs: round2(fields.durationMs),
      billedDurationMs: Math.ceil(fields.durationMs + (fields.initDurationMs ?? 0)),
      memorySizeMB: fields.memoryMb,
      maxMemoryUsedMB: fields.maxMemoryUsedMb ?? fields.memoryMb,
    };
    if (fields.initDurationMs !== undefined) metrics.initDurationMs = round2(fields.initDurationMs);
    // The Telemetry API's statuses: an error the runtime reported is a failure, a crash an error.
    const status = fields.status ?? (fields.errorType !== undefined ? 'failure' : 'success');
    const record: Record<string, unknown> = { requestId: fields.requestId, metrics, status };
    if (fields.errorType !== undefined) record.errorType = fields.errorType;
    this.write(this.#record('platform.report', record));
  }

  initReport(initDurationMs: number, errorType: string): void {
    if (this.format === 'text') return this.write(initReportLine(initDurationMs, errorType));
    this.write(this.#record('platform.initReport', { initializationType: 'on-demand', phase: 'init', status: 'error', errorType, metrics: { durationMs: round2(initDurationMs) } }));
  }

  timedOut(requestId: string, timeoutMs: number): void {
    // In JSON, the report's status ("timeout") says it.
    if (this.format === 'text') this.write(timedOutLine(requestId, timeoutMs, this.now()));
  }

  /** Anything else Lambda says about the sandbox ("Runtime exited with error: ..."): a platform.fault record in JSON. */
  fault(text: string): void {
    this.write(this.format === 'text' ? text : this.#record('platform.fault', text));
  }

  #record(type: string, record: unknown): string {
    return JSON.stringify({ time: this.now().toISOString(), type, record });
  }
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
