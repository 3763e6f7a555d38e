/**
 * The errors the notes API answers with, and the single place that turns an error into a status
 * code. Domain code throws these; `toErrorResponse` is the only mapping to HTTP.
 */
export abstract class HttpError extends Error {
    abstract readonly statusCode: number;
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** The request is malformed: bad JSON, wrong types, unknown fields, too large, bad query. */
export class BadRequest extends HttpError {
    readonly statusCode = 400;
}

/** No authenticated Cognito identity on the request. */
export class Forbidden extends HttpError {
    readonly statusCode = 403;
}

/** The note does not exist for this caller (another user's note is indistinguishable). */
export class NotFound extends HttpError {
    readonly statusCode = 404;
    constructor(message = "Note not found") {
        super(message);
    }
}

/** `If-Match` names a version that is no longer current. */
export class PreconditionFailed extends HttpError {
    readonly statusCode = 412;
    constructor(message = "The note has changed since the given If-Match version; fetch it again") {
        super(message);
    }
}

/** The database is unavailable or throttling, after the SDK's own retries. */
export class ServiceUnavailable extends HttpError {
    readonly statusCode = 503;
    constructor(
        readonly retryAfterSeconds: number,
        readonly cause?: unknown,
    ) {
        super("Service temporarily unavailable, retry later");
    }
}

export interface ErrorResponse {
    statusCode: number;
    headers: Record<string, string>;
    body: { message: string };
    /** True when the detail must be logged because the client only sees a generic message. */
    unexpected: boolean;
}

export function toErrorResponse(error: unknown): ErrorResponse {
    if (error instanceof ServiceUnavailable) {
        return {
            statusCode: error.statusCode,
            headers: { "retry-after": String(error.retryAfterSeconds) },
            body: { message: error.message },
            unexpected: false,
        };
    }
    if (error instanceof HttpError) {
        return { statusCode: error.statusCode, headers: {}, body: { message: error.message }, unexpected: false };
    }
    return { statusCode: 500, headers: {}, body: { message: "Internal error" }, unexpected: true };
}
