/**
 * API Gateway HTTP API events (payload format 2.0): what the local gateway hands a function, and
 * the same events built directly for tests and benchmarks that call a handler without a gateway.
 *
 *     httpEvent({ identityId: "us-east-1:…", method: "PUT", path: "/notes/01H…",
 *                 body: { content: "hi" }, headers: { "if-match": '"1"' } })
 *
 * `path` may carry a query string (`/notes?limit=5`); `/notes/<id>` fills `pathParameters.id`
 * (URL-decoded) and the route key, as the gateway does. `identityId: null` builds the event of
 * a caller without a Cognito identity (`cognitoIdentity: null`). Object bodies are JSON-encoded;
 * string bodies are sent verbatim.
 */
import { randomUUID } from "node:crypto";
import type { HttpApiEvent } from "../../../handlers/http";
import type { SessionCredentials } from "../sts/credentials";

/** The caller an IAM authorizer describes: a role session, with its Cognito identity when it has one. */
export type IamCaller = Pick<SessionCredentials, "accessKeyId" | "principalArn" | "identityId" | "identityPoolId" | "amr">;

/** The `requestContext.authorizer.iam` block API Gateway passes for a caller signed with a role session. */
export function iamAuthorizer(caller: IamCaller, roleId: string) {
    const accountId = /^arn:aws:sts::(\d{12}):/.exec(caller.principalArn)?.[1] ?? "";
    const sessionName = caller.principalArn.slice(caller.principalArn.lastIndexOf("/") + 1);
    return {
        accessKey: caller.accessKeyId,
        accountId,
        callerId: `${roleId}:${sessionName}`,
        cognitoIdentity: caller.identityId !== undefined ? { amr: caller.amr ?? [], identityId: caller.identityId, identityPoolId: caller.identityPoolId } : null,
        principalOrgId: null,
        userArn: caller.principalArn,
        userId: `${roleId}:${sessionName}`,
    };
}

/** One request as the event carries it: the route it matched and the request's parts. */
export interface EventRequest {
    method: string;
    routeKey: string;
    rawPath: string;
    rawQueryString: string;
    /** Lowercased names; a `cookie` header becomes the event's `cookies`. */
    headers: Record<string, string>;
    queryStringParameters?: Record<string, string>;
    pathParameters?: Record<string, string>;
    body?: string;
    isBase64Encoded: boolean;
}

/** What API Gateway adds about the call: ids, and the IAM authorizer's view of the caller. */
export interface EventContext {
    requestId: string;
    accountId: string;
    apiId: string;
    authorizer?: { iam: ReturnType<typeof iamAuthorizer> };
    /** When the request arrived (default now). */
    time?: Date;
}

function clfTime(date: Date): string {
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The payload 2.0 event of one request. */
export function payloadEvent(request: EventRequest, context: EventContext) {
    const headers = { ...request.headers };
    const cookies = headers.cookie ? headers.cookie.split(";").map((c) => c.trim()) : undefined;
    delete headers.cookie;
    const time = context.time ?? new Date();
    const host = headers.host ?? "";
    return {
        version: "2.0",
        routeKey: request.routeKey,
        rawPath: request.rawPath,
        rawQueryString: request.rawQueryString,
        cookies,
        headers,
        queryStringParameters: request.queryStringParameters,
        pathParameters: request.pathParameters,
        requestContext: {
            accountId: context.accountId,
            apiId: context.apiId,
            authorizer: context.authorizer,
            domainName: host,
            domainPrefix: host.split(".")[0],
            http: {
                method: request.method,
                path: request.rawPath,
                protocol: "HTTP/1.1",
                sourceIp: "127.0.0.1",
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: context.requestId,
            routeKey: request.routeKey,
            stage: "$default",
            time: clfTime(time),
            timeEpoch: time.getTime(),
        },
        body: request.body,
        isBase64Encoded: request.isBase64Encoded,
    };
}

export const TEST_IDENTITY_POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000000";
const TEST_ACCOUNT_ID = "123456789012";
const TEST_API_ID = "abcde12345";

export interface HttpEventInput {
    identityId: string | null;
    method: "GET" | "POST" | "PUT" | "DELETE";
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    /** Overrides the query parsed from `path`. */
    query?: Record<string, string>;
    /** Overrides the path parameters parsed from `path`. */
    pathParameters?: Record<string, string>;
}

let counter = 0;

/** The event the notes API delivers after AWS_IAM authorization with Identity Pool credentials. */
export function httpEvent(input: HttpEventInput): HttpApiEvent {
    const [rawPath, rawQueryString = ""] = input.path.split("?", 2);
    const idMatch = /^\/notes\/([^/]+)$/.exec(rawPath);
    const routeKey = `${input.method} ${idMatch ? "/notes/{id}" : rawPath}`;
    const params = new URLSearchParams(rawQueryString);
    const parsedQuery: Record<string, string> = {};
    for (const key of new Set(params.keys())) parsedQuery[key] = params.getAll(key).join(",");
    const body =
        input.body === undefined ? undefined : typeof input.body === "string" ? input.body : JSON.stringify(input.body);
    const caller: IamCaller = {
        accessKeyId: "ASIAEXAMPLEEXAMPLE00",
        principalArn: `arn:aws:sts::${TEST_ACCOUNT_ID}:assumed-role/notes-auth-role/CognitoIdentityCredentials`,
        identityId: input.identityId ?? undefined,
        identityPoolId: TEST_IDENTITY_POOL_ID,
        amr: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/us-east-1_Example01"],
    };
    return payloadEvent(
        {
            method: input.method,
            routeKey,
            rawPath,
            rawQueryString,
            headers: {
                host: `${TEST_API_ID}.execute-api.us-east-1.amazonaws.com`,
                ...(body === undefined ? {} : { "content-type": "application/json" }),
                ...input.headers,
            },
            queryStringParameters: input.query ?? (rawQueryString === "" ? undefined : parsedQuery),
            pathParameters: input.pathParameters ?? (idMatch ? { id: safeDecode(idMatch[1]) } : undefined),
            body,
            isBase64Encoded: false,
        },
        {
            requestId: `test-request-${++counter}`,
            accountId: TEST_ACCOUNT_ID,
            apiId: TEST_API_ID,
            authorizer: { iam: iamAuthorizer(caller, "AROAEXAMPLEEXAMPLE00") },
        },
    );
}

function safeDecode(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
}

/** A fresh identity id in the Identity Pool's `<region>:<uuid>` format. */
export function newIdentityId(): string {
    return `us-east-1:${randomUUID()}`;
}
