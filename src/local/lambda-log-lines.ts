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
  if (fields.errorType) parts.push(`Error Type: ${fields.errorType}`);
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
