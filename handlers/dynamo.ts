/**
 * The DynamoDB document client the handlers share, and how its failures are classified.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { ServiceUnavailable } from "./errors";

/**
 * Few attempts and short timeouts: an API caller waits on us, so a dead endpoint should surface
 * as a 503 within a couple of seconds (refused: at once; unreachable: 3 x 0.5 s; accepting but
 * silent: 3 x 1 s) rather than hold the Lambda until its timeout. The SDK retries throttling and
 * transient errors, timeouts included, within `maxAttempts`. Without `throwOnRequestTimeout` the
 * SDK only logs a warning when `requestTimeout` passes and keeps waiting.
 */
export const DYNAMO_CLIENT_SETTINGS = {
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true },
} as const;

/**
 * Region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` come from the function's environment.
 * Lambda always puts the role's credentials there (the local cloud does the same), so the client
 * reads them with `fromEnv` instead of the SDK's default chain (SSO, ini files, processes, web
 * identity, container and instance metadata), which `lib/bundle.ts` leaves out of the bundles.
 */
export function createDocumentClient(): DynamoDBDocumentClient {
    return DynamoDBDocumentClient.from(new DynamoDBClient({ ...DYNAMO_CLIENT_SETTINGS, credentials: fromEnv() }), {
        marshallOptions: { removeUndefinedValues: true },
    });
}

const TRANSIENT_NAMES = new Set([
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TimeoutError",
    "RequestTimeout",
    "RequestTimeoutException",
]);

const NETWORK_CODES = new Set([
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
]);

const THROTTLING_NAMES = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]);

/** True for failures a client should retry later: throttling, 5xx, timeouts, connection errors. */
export function isUnavailable(error: unknown): boolean {
    if (!(error instanceof Error)) return false;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const code = (error as { code?: unknown }).code;
    return (
        TRANSIENT_NAMES.has(error.name) ||
        (typeof code === "string" && NETWORK_CODES.has(code)) ||
        (status !== undefined && (status >= 500 || status === 429))
    );
}

export function isConditionFailed(error: unknown): boolean {
    return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * Runs one DynamoDB call; an unavailable or throttling database becomes `ServiceUnavailable`
 * (503 + Retry-After). Every other error, including condition failures, passes through unchanged.
 */
export async function dynamo<T>(call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (error) {
        if (isUnavailable(error)) {
            throw new ServiceUnavailable(error instanceof Error && THROTTLING_NAMES.has(error.name) ? 2 : 1, error);
        }
        throw error;
    }
}
