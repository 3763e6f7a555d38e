/**
 * HTTP glue shared by the five route files: the API Gateway HTTP API (payload 2.0) event type, the
 * caller identity, body, header and ETag access, and the wrapper that turns results and errors
 * into responses and log lines.
 */
import { BadRequest, Forbidden, toErrorResponse } from "./errors";
import { createLogger, describeError, Logger } from "./log";

/**
 * The parts of an HTTP API payload 2.0 event the handlers use. Declared here because
 * `@types/aws-lambda` types `authorizer.iam.cognitoIdentity` as `null`.
 */
export interface HttpApiEvent {
    version?: string;
    routeKey?: string;
    rawPath?: string;
    rawQueryString?: string;
    headers?: Record<string, string | undefined>;
    queryStringParameters?: Record<string, string | undefined>;
    pathParameters?: Record<string, string | undefined>;
    body?: string;
    isBase64Encoded?: boolean;
    requestContext?: {
        requestId?: string;
        routeKey?: string;
        http?: { method?: string; path?: string };
        authorizer?: {
            iam?: {
                accessKey?: string;
                accountId?: string;
                callerId?: string;
                principalOrgId?: string | null;
                userArn?: string;
                userId?: string;
                cognitoIdentity?: CognitoIdentity | null;
            };
        };
    };
}

export interface CognitoIdentity {
    amr?: string[];
    identityId?: string;
    identityPoolId?: string;
}

export interface HttpResponse {
    statusCode: number;
    headers: Record<string, string>;
    body?: string;
}

/** The bits of the Lambda context object the handlers read. */
export interface LambdaContext {
    awsRequestId?: string;
    /** Milliseconds left before Lambda stops the invocation (the account function's time budget). */
    getRemainingTimeInMillis?: () => number;
}

export interface Request {
    /** The caller's Cognito Identity Pool id: the only source of the user id. */
    userId: string;
    event: HttpApiEvent;
    log: Logger;
    context?: LambdaContext;
}

export interface Reply {
    statusCode: number;
    body?: unknown;
    headers?: Record<string, string>;
}

/** A note is at most 64 KiB; JSON escaping can grow that several times, so the raw cap is wider. */
export const MAX_BODY_BYTES = 512 * 1024;

/**
 * The caller's identity id, or `Forbidden`. Only the IAM authorizer's Cognito identity counts:
 * ids in the path, query, body or headers are never consulted.
 */
export function callerIdentity(event: HttpApiEvent): string {
    const identity = event.requestContext?.authorizer?.iam?.cognitoIdentity;
    const id = identity?.identityId;
    if (typeof id !== "string" || id.trim() === "") {
        throw new Forbidden("Forbidden: the request carries no Cognito identity");
    }
    if (Array.isArray(identity?.amr) && identity.amr.includes("unauthenticated")) {
        throw new Forbidden("Forbidden: unauthenticated identities have no notes");
    }
    return id;
}

/** The User Pool user behind a request's Identity Pool credentials. */
export interface SignedInUser {
    /** The Identity Pool id (`<region>:<uuid>`), as `callerIdentity()` reads it. */
    identityId: string;
    /** The user's `sub` in the User Pool, which Cognito's admin actions take as the username. */
    sub: string;
}

/** `<provider name>:CognitoSignIn:<sub>`, the `amr` entry Cognito Identity adds for a User Pool sign-in. */
const COGNITO_SIGN_IN = /^(cognito-idp\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/[\w-]+):CognitoSignIn:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The signed-in user of this stack behind the request, from the IAM authorizer's Cognito identity
 * only. Cognito Identity lists the user's authentication methods in `amr`
 * (`["authenticated", "cognito-idp.<region>.amazonaws.com/<pool>",
 * "cognito-idp.<region>.amazonaws.com/<pool>:CognitoSignIn:<sub>"]`); exactly one sign-in entry
 * must be there, from `providerName` (this stack's User Pool), through `identityPoolId` (this
 * stack's Identity Pool). Anything else is `Forbidden`: no id is ever taken from the path, the
 * query, the body or the headers.
 */
export function signedInUser(event: HttpApiEvent, expected: { providerName: string; identityPoolId: string }): SignedInUser {
    const identityId = callerIdentity(event);
    const identity = event.requestContext!.authorizer!.iam!.cognitoIdentity!;
    if (identity.identityPoolId !== expected.identityPoolId) {
        throw new Forbidden("Forbidden: the credentials come from another Identity Pool");
    }
    const amr = Array.isArray(identity.amr) ? identity.amr : [];
    const signIns = amr.filter((entry) => typeof entry === "string" && entry.includes(":CognitoSignIn:"));
    if (signIns.length !== 1) {
        throw new Forbidden("Forbidden: the credentials carry no single User Pool sign-in");
    }
    const match = COGNITO_SIGN_IN.exec(signIns[0]);
    if (!match || match[1] !== expected.providerName) {
        throw new Forbidden("Forbidden: the credentials come from a sign-in to another User Pool");
    }
    return { identityId, sub: match[2] };
}

/** Header lookup ignoring case (API Gateway lower-cases names, test clients may not). */
export function header(event: HttpApiEvent, name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(event.headers ?? {})) {
        if (key.toLowerCase() === wanted) return value;
    }
    return undefined;
}

/** The request body parsed as JSON, or `BadRequest` with a message that says what is wrong. */
export function jsonBody(event: HttpApiEvent): unknown {
    if (event.body === undefined || event.body === null || event.body === "") {
        throw new BadRequest("Request body is required: a JSON object");
    }
    const raw = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
    if (Buffer.byteLength(raw, "utf8") > MAX_BODY_BYTES) {
        throw new BadRequest(`Request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    try {
        return JSON.parse(raw);
    } catch {
        throw new BadRequest("Request body is not valid JSON");
    }
}

/** A note's `ETag`: its version in quotes (what `If-Match` sends back; parseIfMatch() in validation.ts). */
export function etag(note: { version: number }): string {
    return `"${note.version}"`;
}

/** The `{id}` path parameter (validated by the store). */
export function pathId(event: HttpApiEvent): string {
    return event.pathParameters?.id ?? "";
}

function respond(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
    // CORS headers are added by API Gateway's CORS configuration, not here.
    if (body === undefined) return { statusCode, headers };
    return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/**
 * Wraps a route: identifies the caller (403 before anything is touched), runs `route`, maps any
 * error to a response in one place (via `toErrorResponse`), and logs one line per request.
 * Unexpected errors answer "Internal error"; their detail goes to the log with the request id.
 */
export function httpHandler(route: (request: Request) => Promise<Reply>, baseLog: Logger = createLogger()) {
    return async (event: HttpApiEvent, context?: LambdaContext): Promise<HttpResponse> => {
        const started = Date.now();
        // requestId matches Lambda's own log lines; apiRequestId matches the API access log.
        const log = baseLog.child({
            requestId: context?.awsRequestId,
            apiRequestId: event?.requestContext?.requestId,
            route: event?.routeKey ?? event?.requestContext?.routeKey,
        });
        let response: HttpResponse;
        try {
            const userId = callerIdentity(event);
            const reply = await route({ userId, event, log, context });
            response = respond(reply.statusCode, reply.body, reply.headers);
        } catch (error) {
            const mapped = toErrorResponse(error);
            if (mapped.unexpected) {
                // statusCode: the alarm on handler failures counts ERROR lines with a 5xx status
                // (HANDLER_ERROR_FILTER in components/monitoring.ts).
                log.error("Unhandled error", { statusCode: mapped.statusCode, error: describeError(error) });
            } else if (mapped.statusCode >= 500) {
                const cause = (error as { cause?: unknown }).cause;
                log.warn("Dependency unavailable", { error: describeError(cause ?? error) });
            }
            response = respond(mapped.statusCode, mapped.body, mapped.headers);
        }
        log.info("Request handled", { statusCode: response.statusCode, durationMs: Date.now() - started });
        return response;
    };
}
