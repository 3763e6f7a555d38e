/**
 * Builds API Gateway HTTP API (payload 2.0) events as the gateway delivers them to the notes
 * Lambdas after AWS_IAM authorization with Cognito Identity Pool credentials.
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

export const TEST_IDENTITY_POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000000";

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

export function httpEvent(input: HttpEventInput): HttpApiEvent {
    const [rawPath, rawQueryString = ""] = input.path.split("?", 2);
    const idMatch = /^\/notes\/([^/]+)$/.exec(rawPath);
    const routeKey = `${input.method} ${idMatch ? "/notes/{id}" : rawPath}`;
    const params = new URLSearchParams(rawQueryString);
    const parsedQuery: Record<string, string> = {};
    for (const key of new Set(params.keys())) parsedQuery[key] = params.getAll(key).join(",");
    const query = input.query ?? (rawQueryString === "" ? undefined : parsedQuery);
    const pathParameters = input.pathParameters ?? (idMatch ? { id: safeDecode(idMatch[1]) } : undefined);
    const body =
        input.body === undefined ? undefined : typeof input.body === "string" ? input.body : JSON.stringify(input.body);
    const requestId = `test-request-${++counter}`;
    const accountId = "123456789012";
    return {
        version: "2.0",
        routeKey,
        rawPath,
        rawQueryString,
        headers: {
            host: "abcde12345.execute-api.us-east-1.amazonaws.com",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...input.headers,
        },
        queryStringParameters: query,
        pathParameters,
        body,
        isBase64Encoded: false,
        requestContext: {
            requestId,
            routeKey,
            http: { method: input.method, path: rawPath },
            authorizer: {
                iam: {
                    accessKey: "ASIAEXAMPLEEXAMPLE00",
                    accountId,
                    callerId: "AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials",
                    principalOrgId: null,
                    userArn: `arn:aws:sts::${accountId}:assumed-role/notes-auth-role/CognitoIdentityCredentials`,
                    userId: "AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials",
                    cognitoIdentity:
                        input.identityId === null
                            ? null
                            : {
                                  amr: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/us-east-1_Example01"],
                                  identityId: input.identityId,
                                  identityPoolId: TEST_IDENTITY_POOL_ID,
                              },
                },
            },
        },
    };
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
