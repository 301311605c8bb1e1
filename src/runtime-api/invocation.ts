/** One invocation as `/next` delivers it: the event bytes and every context header Lambda sends. */
export interface Invocation {
  requestId: string;
  /** Epoch milliseconds at which Lambda stops the function. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string | undefined;
  /** Raw JSON of the mobile SDK's client context, when the caller sent one. */
  clientContext: string | undefined;
  /** Raw JSON of the Cognito identity, when there is one. */
  cognitoIdentity: string | undefined;
  event: Buffer;
}

/** The error document Lambda expects on `/error` and `/init/error`. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  stackTrace: string[];
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function invocationFromNext(headers: Headers, event: Buffer): Invocation {
  const requestId = single(headers, 'lambda-runtime-aws-request-id');
  if (!requestId) throw new Error('the Runtime API answered /next without Lambda-Runtime-Aws-Request-Id');
  const deadline = Number(single(headers, 'lambda-runtime-deadline-ms'));
  return {
    requestId,
    // A missing deadline would otherwise become NaN and kill PHP at once; treat it as "no deadline".
    deadlineMs: Number.isFinite(deadline) && deadline > 0 ? deadline : Number.MAX_SAFE_INTEGER,
    invokedFunctionArn: single(headers, 'lambda-runtime-invoked-function-arn') ?? '',
    traceId: single(headers, 'lambda-runtime-trace-id') || undefined,
    clientContext: single(headers, 'lambda-runtime-client-context') || undefined,
    cognitoIdentity: single(headers, 'lambda-runtime-cognito-identity') || undefined,
    event,
  };
}
