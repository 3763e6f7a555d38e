import * as fc from "fast-check";
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { crc32 } from "node:zlib";
import * as path from "node:path";
import { LocalUserPools, startUserPools } from "../../../tools/local/cognito-idp/user-pools";
import { CredentialStore, SessionCredentials } from "../../../tools/local/sts/credentials";
import { LocalDynalite, LocalDynamoFront } from "../../../tools/local/dynamodb/front";
import { LocalFunction } from "../../../tools/local/lambda/functions";
import { LocalGateway } from "../../../tools/local/apigateway/gateway";
import { LocalIdentityService } from "../../../tools/local/cognito-identity/identity-pools";
import { adminCredentials, signingKey } from "../../../tools/local/keys";
import { LocalApi, LocalRegistry } from "../../../tools/local/registry";
import { LocalS3 } from "../../../tools/local/s3/front";
import { RawResponse, requestBytes, sendRaw, signedHeaders } from "../../support/raw-http";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const BUCKET = "fuzz-bucket";
const API_ID = "fuzzapi001";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/fuzz-role`;
const IDENTITY = "us-east-1:11111111-1111-4111-a111-111111111111";
const POOL_ID = "us-east-1:0f6f1a7e-1b2c-4d3e-8f9a-0b1c2d3e4f5a";
/** Generated requests per server (plus the malformed-HTTP cases), sent this many at a time. */
const RUNS = 2000;
const CONCURRENCY = 8;
const SEED = 20261130;

/** A server under fuzz: its port, and how to build one generated request for it. */
interface Target {
    name: string;
    port: () => number;
    /** Bytes of one generated request (async: some are signed). */
    request: fc.Arbitrary<() => Promise<Buffer>>;
    /** Answers in 5xx the service gives by design, given the request that got it. */
    allowed5xx?: (response: RawResponse, request: Buffer) => boolean;
}

/**
 * S3's 501 NotImplemented, for functionality the local S3 does not emulate, and only to a request
 * that carries a signature: an unsigned one is refused (403) before anything is said about it.
 */
const s3NotImplementedToSigned = (response: RawResponse, request: Buffer) =>
    response.status === 501 &&
    (/<Code>NotImplemented<\/Code>/.test(response.body) || response.headers["x-amz-error-code"] === "NotImplemented") &&
    /^authorization: AWS4-HMAC-SHA256 |[?&]X-Amz-Signature=/im.test(request.toString("latin1"));

// Pieces that exercise parsers: malformed and valid escapes, dot segments, long and odd segments.
const escapes = fc.constantFrom("%", "%Z", "%zz", "%E0%A4", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%FF", "%00", "%2e%2e", "%2E", "%2F", "%25", "%20", "+", "%u0041", "%%", "%e2%82%ac");
const segment = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.constantFrom("..", ".", "", "private", IDENTITY, "notes", "._S3rver_metadata.json", "%2e%2e", "a;b", "a?b", "a#b", "\\"),
    escapes,
    fc.nat({ max: 2000 }).map((n) => "s".repeat(n)),
);
/** What goes on the request line: only characters an HTTP parser lets through, the rest percent-encoded. */
const onWire = (text: string) => [...Buffer.from(text, "utf8")].map((b) => (b > 0x20 && b < 0x7f && b !== 0x3f && b !== 0x23 ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`)).join("");
const pathFrom = (prefix: string[]) => fc.array(segment, { maxLength: 6 }).map((parts) => `/${[...prefix, ...parts].map(onWire).join("/")}`);
const queryValue = fc.oneof(fc.string({ maxLength: 20 }), escapes, fc.constantFrom("", "1", "0", "10001", "-1", "1e3", "2", "url", "true", "../../x", "a".repeat(64), "*"));
const queryString = (names: string[]) =>
    fc.oneof(
        { weight: 8, arbitrary: fc.array(fc.tuple(names.length ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })) : fc.string({ maxLength: 8 }), queryValue), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${onWire(k)}=${onWire(v)}`).join("&")) },
        { weight: 1, arbitrary: fc.integer({ min: 90, max: 1200 }).map((n) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join("&")) },
        { weight: 1, arbitrary: escapes.map((e) => `${e}=${e}&a=${e}`) },
    );
const headerValue = fc.oneof(fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n\0]/g, "")), fc.constantFrom("", "*", "bytes=0-1", "bytes=5-", "bytes=-0", "bytes=9-1", '"abc"', "AWS4-HMAC-SHA256 Credential=x", "text/plain", "aws-chunked", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "1B2M2Y8AsgTpgAmY7PhCfg=="));
const hostHeader = (port: () => number) => fc.oneof({ weight: 8, arbitrary: fc.constant("loopback") }, { weight: 1, arbitrary: fc.constantFrom("evil.example", "localhost.evil.example", `${BUCKET}.s3.${REGION}.amazonaws.com`, "") }).map((host) => (host === "loopback" ? `127.0.0.1:${port()}` : host));
const xmlBody = fc.oneof(
    fc.constantFrom(
        "<Delete><Object><Key>private/<![CDATA[x]]></Key></Object></Delete>",
        "<Delete><Object><Key >a<!-- c -->b</Key></Object><Quiet>true</Quiet></Delete>",
        "<Delete><Object><Key>&#46;&#46;/x</Key></Object></Delete>",
        '<!DOCTYPE d [<!ENTITY e "private/">]><Delete><Object><Key>&e;</Key></Object></Delete>',
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>",
        "<Delete><Object><Key>&unknown;</Key></Object></Delete>",
        "<Delete>",
        "",
    ),
    fc.array(fc.constantFrom("<Delete>", "</Delete>", "<Object>", "</Object>", "<Key>", "</Key>", "<![CDATA[", "]]>", "&amp;", "&#x41;", "private/", "<Part>", "<PartNumber>", "</PartNumber>", "<!--", "-->"), { maxLength: 12 }).map((parts) => parts.join("")),
);
const body = fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    xmlBody.map((text) => Buffer.from(text)),
);
const method = fc.oneof({ weight: 10, arbitrary: fc.constantFrom("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS") }, { weight: 1, arbitrary: fc.constantFrom("PATCH", "TRACE", "PROPFIND", "FOO") });

/** Malformed HTTP every server gets: aborted bodies, oversized headers, bad request lines, bad framing. */
function malformedCases(port: number): { name: string; bytes: Buffer; abort?: boolean; expectAnswer: boolean }[] {
    const host = `127.0.0.1:${port}`;
    return [
        { name: "aborted body", bytes: requestBytes("POST", "/", [["host", host], ["content-type", "application/x-amz-json-1.1"]], Buffer.from('{"a":'), 1000), abort: true, expectAnswer: false },
        { name: "aborted body (PUT)", bytes: requestBytes("PUT", `/${BUCKET}/private/x`, [["host", host]], Buffer.from("partial"), 5_000_000), abort: true, expectAnswer: false },
        { name: "huge header", bytes: requestBytes("GET", "/", [["host", host], ["x-big", "a".repeat(20_000)]]), expectAnswer: true },
        { name: "thousands of headers", bytes: requestBytes("GET", "/", [["host", host], ...Array.from({ length: 3000 }, (_, i): [string, string] => [`x-h${i}`, "v"])]), expectAnswer: true },
        { name: "control character in a header", bytes: requestBytes("GET", "/", [["host", host], ["x-bad", "a\x01b"]]), expectAnswer: true },
        { name: "bad request line", bytes: Buffer.from("GET /\x00 HTTP/1.1\r\nhost: x\r\n\r\n", "latin1"), expectAnswer: true },
        { name: "not HTTP", bytes: Buffer.from("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "latin1"), expectAnswer: true },
        { name: "absolute-form target", bytes: requestBytes("GET", "http://evil.example/x", [["host", host]]), expectAnswer: true },
        { name: "asterisk target", bytes: requestBytes("OPTIONS", "*", [["host", host]]), expectAnswer: true },
        { name: "bad chunk", bytes: Buffer.from(`POST / HTTP/1.1\r\nhost: ${host}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, "latin1"), expectAnswer: true },
        { name: "conflicting length and chunked", bytes: Buffer.from(`POST / HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, "latin1"), expectAnswer: true },
        { name: "malformed percent-encoding", bytes: requestBytes("GET", "/%E0%A4%A/%zz?a=%E0%A4%A", [["host", host]]), expectAnswer: true },
        { name: "no Host (HTTP/1.0)", bytes: Buffer.from("GET / HTTP/1.0\r\n\r\n", "latin1"), expectAnswer: true },
        { name: "two Host headers", bytes: requestBytes("GET", "/", [["host", host], ["host", "evil.example"]]), expectAnswer: true },
        { name: "oversized body", bytes: requestBytes("POST", "/", [["host", host], ["content-length", String(512 * 1024 * 1024)]]), abort: true, expectAnswer: false },
    ];
}

describe("fuzzing every local server: malformed HTTP and 2,000+ generated requests each, no crash and no 5xx", function () {
    this.timeout(180_000);
    let dir: string;
    let store: CredentialStore;
    let session: SessionCredentials;
    let gateway: LocalGateway;
    let fn: LocalFunction;
    let s3: LocalS3;
    let identity: LocalIdentityService;
    let pools: LocalUserPools;
    let dynalite: LocalDynalite;
    let dynamoFront: LocalDynamoFront;
    const ports: Record<string, number> = {};
    const failures: unknown[] = [];
    const onFailure = (error: unknown) => failures.push(error);
    /** Error lines the servers logged (a 500's detail). */
    const errors: Record<string, unknown>[] = [];
    const log = (line: Record<string, unknown>) => {
        if (line.level === "error") errors.push(line);
    };
    const tally: Record<string, { requests: number; statuses: Record<string, number>; ms: number }> = {};

    before(async () => {
        process.on("uncaughtException", onFailure);
        process.on("unhandledRejection", onFailure);
        dir = mkdtempSync(path.join(tmpdir(), "fuzz-"));
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("fuzz-role", { name: "fuzz-role", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set(
            "fuzz-role",
            new Map([
                [
                    "p",
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Effect: "Allow", Action: "execute-api:Invoke", Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*` },
                            { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: `arn:aws:s3:::${BUCKET}/private/\${cognito-identity.amazonaws.com:sub}/*` },
                            { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${BUCKET}` },
                            { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/*` },
                        ],
                    }),
                ],
            ]),
        );
        store = new CredentialStore();
        session = store.mint({ roleArn: ROLE_ARN, sessionName: "fuzz", identityId: IDENTITY });

        fn = new LocalFunction(
            { name: "echo", arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:echo`, files: { "index.js": "exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath, query: event.queryStringParameters ?? null }) });" }, handler: "index.handler", environment: {}, timeoutSeconds: 5, roleArn: ROLE_ARN },
            path.join(dir, "echo"),
            () => ({}),
        );
        registry.functions.set("echo", fn);
        registry.permissions.push({ action: "lambda:InvokeFunction", functionRef: "echo", principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*/*` });
        const api: LocalApi = { id: API_ID, name: "fuzz", cors: { allowOrigins: ["http://localhost:5173"], allowMethods: ["GET", "POST"], allowHeaders: ["authorization"] }, routes: new Map(), integrations: new Map([["i", { functionArn: fn.definition.arn, payloadFormatVersion: "2.0", type: "AWS_PROXY" }]]), stages: new Set(["$default"]) };
        for (const key of ["GET /notes", "POST /notes", "GET /notes/{id}", "PUT /notes/{id}", "DELETE /notes/{id}"]) api.routes.set(key, { routeKey: key, authorizationType: "AWS_IAM", target: "integrations/i" });
        registry.apis.set(API_ID, api);
        gateway = new LocalGateway({ api, registry, store, log });
        ports.gateway = await gateway.listen(0);

        s3 = new LocalS3({ dataDir: dir, registry, store, log });
        ports.s3 = await s3.listen(0);
        await s3.createBucket(BUCKET);
        await s3.putCors(BUCKET, [{ allowedOrigins: ["http://localhost:5173"], allowedMethods: ["GET", "PUT"], allowedHeaders: ["*"] }]);

        const key = await signingKey(dir);
        identity = new LocalIdentityService({ region: REGION, accountId: ACCOUNT, store, registry, userPoolIssuer: "http://127.0.0.1:1", signingKey: key.publicJwk as Record<string, unknown> });
        identity.putPool({ id: POOL_ID, name: "fuzz", allowUnauthenticatedIdentities: false, providers: [{ providerName: "cognito-idp.us-east-1.amazonaws.com/local_abc", clientId: "client" }], roles: { authenticated: ROLE_ARN } });
        ports.identity = await identity.listen(0);

        pools = await startUserPools({ dataDir: dir, region: REGION, accountId: ACCOUNT, signingKey: key, admin: adminCredentials(dir), store, registry, onCode: () => undefined, log });
        const poolId = (await pools.call("CreateUserPool", { PoolName: "fuzz", UsernameAttributes: ["email"] })).UserPool.Id;
        await pools.call("CreateUserPoolClient", { UserPoolId: poolId, ClientName: "app", ExplicitAuthFlows: ["USER_PASSWORD_AUTH"] });
        ports.userPools = Number(new URL(pools.endpoint).port);

        dynalite = new LocalDynalite(undefined, log);
        ports.dynalite = await dynalite.listen(0);
        dynamoFront = new LocalDynamoFront({ backend: dynalite.backend, registry, store, log });
        ports.dynamoFront = await dynamoFront.listen(0);
    });

    after(async () => {
        process.off("uncaughtException", onFailure);
        process.off("unhandledRejection", onFailure);
        await Promise.all([gateway?.close(), s3?.close(), identity?.close(), pools?.close(), dynamoFront?.close(), dynalite?.close(), fn?.stop()]);
        rmSync(dir, { recursive: true, force: true });
        const lines = Object.entries(tally).map(([name, t]) => `${name}: ${t.requests} requests in ${(t.ms / 1000).toFixed(1)} s, statuses ${JSON.stringify(t.statuses)}`);
        if (lines.length) process.stdout.write(`      fuzz figures:\n${lines.map((line) => `        ${line}`).join("\n")}\n`);
    });

    const creds = () => ({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken });

    /** A generated request: method, path, query, headers and body, sent as given or SigV4-signed first. */
    function generated(port: () => number, service: string, paths: fc.Arbitrary<string>, queryNames: string[], extraHeaders: fc.Arbitrary<[string, string][]>, bodies: fc.Arbitrary<Buffer> = body): fc.Arbitrary<() => Promise<Buffer>> {
        return fc.record({ method, path: paths, query: queryString(queryNames), headers: extraHeaders, body: bodies, host: hostHeader(port), sign: fc.boolean() }).map((r) => async () => {
            let headers = Object.fromEntries(r.headers.filter(([name]) => name !== "host"));
            // Requests past the servers' query limit are refused before any signature check; the
            // SDK's signer clones a query in quadratic time, so they go unsigned.
            if (r.sign && r.query.split("&").length <= 100) {
                const query = Object.fromEntries(r.query.split("&").filter(Boolean).map((pair) => pair.split("=", 2).map((part) => { try { return decodeURIComponent(part); } catch { return part; } }) as [string, string]));
                const signed = await signedHeaders(creds(), { service, region: REGION, method: r.method, host: r.host, path: r.path, query, headers, body: r.body });
                if (signed) headers = signed;
            }
            const { host: _host, ...rest } = headers;
            return requestBytes(r.method, `${r.path}${r.query ? `?${r.query}` : ""}`, [["host", r.host], ...Object.entries(rest)], r.body);
        });
    }
    const headersFrom = (names: string[]) => fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/) }), headerValue), { maxLength: 6 });
    const amzJson = (targets: string[]) =>
        fc.tuple(fc.constantFrom(...targets), fc.constantFrom("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json", "text/plain")).map(([target, type]): [string, string][] => [["x-amz-target", target], ["content-type", type]]);
    const jsonBody = (members: string[]) =>
        fc.oneof(
            { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...members), fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 })), fc.array(fc.record({ Name: fc.string({ maxLength: 8 }), Value: fc.string({ maxLength: 8 }) }), { maxLength: 2 }))).map((o) => Buffer.from(JSON.stringify(o))) },
            { weight: 1, arbitrary: body },
        );

    const targets: Target[] = [
        {
            name: "gateway",
            port: () => ports.gateway,
            request: generated(() => ports.gateway, "execute-api", fc.oneof(pathFrom(["notes"]), pathFrom([])), ["cursor", "limit", "userId"], headersFrom(["content-type", "origin", "access-control-request-method", "authorization", "x-amz-date", "x-amz-security-token", "cookie", "if-match"])),
        },
        {
            name: "s3",
            port: () => ports.s3,
            request: generated(
                () => ports.s3,
                "s3",
                fc.oneof(pathFrom([BUCKET, "private", IDENTITY]), pathFrom([BUCKET]), pathFrom([])),
                ["list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "uploads", "uploadId", "partNumber", "delete", "location", "acl", "tagging", "versionId", "response-content-type", "response-cache-control", "x-id", "X-Amz-Signature", "X-Amz-Algorithm"],
                headersFrom(["content-type", "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "x-amz-copy-source", "x-amz-metadata-directive", "if-none-match", "if-match", "range", "origin", "x-amz-meta-a", "x-amz-acl", "x-amz-tagging", "x-amz-content-sha256", "expect", "x-amz-expected-bucket-owner"]),
                fc.oneof(body, xmlBody.map((text) => Buffer.from(text))),
            ),
            allowed5xx: s3NotImplementedToSigned,
        },
        {
            // Well-formed, signed S3 operations with generated keys, copy sources, upload ids, part
            // numbers, XML bodies and digests: what gets past parsing and the signature to the
            // authorization, the XML parser and the store.
            name: "s3 (signed operations)",
            port: () => ports.s3,
            request: fc
                .record({
                    operation: fc.constantFrom("PutObject", "GetObject", "HeadObject", "DeleteObject", "DeleteObjects", "CopyObject", "ListObjectsV2", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts"),
                    key: fc.oneof({ weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `private/${IDENTITY}/${parts.join("/")}`) }, { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/")) }),
                    other: fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/")),
                    value: queryValue,
                    xml: xmlBody,
                    digest: fc.constantFrom("md5", "crc32", "none", "wrong"),
                    headers: headersFrom(["content-type", "if-none-match", "if-match", "range", "x-amz-meta-a", "x-amz-metadata-directive", "cache-control", "x-amz-acl", "x-amz-storage-class"]),
                })
                .map((generatedValues) => async () => {
                    // Lone surrogates cannot be percent-encoded: what goes on the wire is their UTF-8 replacement.
                    const wellFormed = (text: string) => Buffer.from(text, "utf8").toString("utf8");
                    const r = { ...generatedValues, value: wellFormed(generatedValues.value), other: wellFormed(generatedValues.other), key: wellFormed(generatedValues.key) };
                    const encodedKey = r.key.split("/").map(encodeURIComponent).join("/");
                    const query: Record<string, string> = {};
                    const headers: Record<string, string> = Object.fromEntries(r.headers);
                    let method = "GET";
                    let objectPath = `/${BUCKET}/${encodedKey}`;
                    let payload = Buffer.alloc(0);
                    switch (r.operation) {
                        case "PutObject":
                        case "UploadPart":
                            method = "PUT";
                            payload = Buffer.from(r.value);
                            if (r.operation === "UploadPart") Object.assign(query, { partNumber: r.value, uploadId: r.value });
                            break;
                        case "HeadObject":
                            method = "HEAD";
                            break;
                        case "DeleteObject":
                        case "AbortMultipartUpload":
                            method = "DELETE";
                            if (r.operation === "AbortMultipartUpload") query.uploadId = r.value;
                            break;
                        case "DeleteObjects":
                            method = "POST";
                            objectPath = `/${BUCKET}`;
                            query.delete = "";
                            payload = Buffer.from(r.xml);
                            break;
                        case "CopyObject":
                            method = "PUT";
                            headers["x-amz-copy-source"] = `${BUCKET}/${r.other.split("/").map(encodeURIComponent).join("/")}${r.value === "*" ? "?versionId=1" : ""}`;
                            break;
                        case "ListObjectsV2":
                            objectPath = `/${BUCKET}`;
                            Object.assign(query, { "list-type": "2", prefix: Array.from(r.key).slice(0, r.key.length / 2).join(""), "max-keys": r.value, "continuation-token": r.other });
                            break;
                        case "CreateMultipartUpload":
                            method = "POST";
                            query.uploads = "";
                            break;
                        case "CompleteMultipartUpload":
                            method = "POST";
                            query.uploadId = r.value;
                            payload = Buffer.from(r.xml);
                            break;
                        case "ListParts":
                            query.uploadId = r.value;
                            break;
                    }
                    if (payload.length && r.digest === "md5") headers["content-md5"] = createHash("md5").update(payload).digest("base64");
                    if (payload.length && r.digest === "crc32") headers["x-amz-checksum-crc32"] = Buffer.from(crc32(payload).toString(16).padStart(8, "0"), "hex").toString("base64");
                    if (r.digest === "wrong") headers["content-md5"] = "1B2M2Y8AsgTpgAmY7PhCfg==";
                    const host = `127.0.0.1:${ports.s3}`;
                    const signed = (await signedHeaders(creds(), { service: "s3", region: REGION, method, host, path: objectPath, query, headers, body: payload })) ?? headers;
                    const { host: _host, ...rest } = signed;
                    const search = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
                    return requestBytes(method, `${objectPath}${search ? `?${search}` : ""}`, [["host", host], ...Object.entries(rest)], payload);
                }),
            allowed5xx: s3NotImplementedToSigned,
        },
        {
            name: "identity",
            port: () => ports.identity,
            request: generated(
                () => ports.identity,
                "cognito-identity",
                fc.oneof(fc.constant("/"), pathFrom([])),
                [],
                fc.tuple(amzJson(["AWSCognitoIdentityService.GetId", "AWSCognitoIdentityService.GetCredentialsForIdentity", "AWSCognitoIdentityService.ListIdentities", "Bogus.GetId", "AWSCognitoIdentityService."]), headersFrom(["origin", "authorization"])).map(([a, b]) => [...a, ...b]),
                jsonBody(["IdentityPoolId", "Logins", "IdentityId", "AccountId", "CustomRoleArn"]),
            ),
        },
        {
            name: "userPools",
            port: () => ports.userPools,
            request: generated(
                () => ports.userPools,
                "cognito-idp",
                fc.oneof(fc.constant("/"), fc.constantFrom("/local_abc/.well-known/jwks.json", "/x/.well-known/openid-configuration"), pathFrom([])),
                [],
                fc.tuple(
                    amzJson(["SignUp", "ConfirmSignUp", "InitiateAuth", "RespondToAuthChallenge", "GetUser", "ChangePassword", "DeleteUser", "UpdateUserAttributes", "ForgotPassword", "RevokeToken", "ListUsers", "AdminConfirmSignUp", "AdminDeleteUser", "CreateUserPool", "DescribeUserPool", "GlobalSignOut", "NoSuchAction"].map((op) => `AWSCognitoIdentityProviderService.${op}`)),
                    headersFrom(["origin", "authorization", "x-amz-date"]),
                ).map(([a, b]) => [...a, ...b]),
                jsonBody(["ClientId", "Username", "Password", "ConfirmationCode", "AuthFlow", "AuthParameters", "AccessToken", "UserPoolId", "UserAttributes", "ChallengeName", "ChallengeResponses", "Session", "Token", "ProposedPassword", "PreviousPassword", "Limit", "Filter", "PoolName"]),
            ),
        },
        {
            name: "dynamoFront",
            port: () => ports.dynamoFront,
            request: generated(
                () => ports.dynamoFront,
                "dynamodb",
                fc.oneof(fc.constant("/"), pathFrom([])),
                [],
                fc.tuple(amzJson(["DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.Query", "DynamoDB_20120810.Scan", "DynamoDB_20120810.DeleteTable", "DynamoDB_20120810.NotAnOperation", "DynamoDB_20120810.", "Other.GetItem"]), headersFrom(["origin"])).map(([a, b]) => [...a, ...b]),
                jsonBody(["TableName", "Key", "Item", "IndexName", "KeyConditionExpression", "ExpressionAttributeValues", "RequestItems", "Limit"]),
            ),
        },
        {
            name: "dynalite",
            port: () => ports.dynalite,
            request: generated(
                () => ports.dynalite,
                "dynamodb",
                fc.oneof(fc.constant("/"), pathFrom([])),
                [],
                fc.tuple(
                    amzJson(["DynamoDB_20120810.CreateTable", "DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.Query", "DynamoDB_20120810.Scan", "DynamoDB_20120810.DescribeTable", "DynamoDB_20120810.ListTables", "DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.BatchWriteItem", "DynamoDB_20120810.Nope"]),
                    headersFrom(["origin", "x-amz-date"]),
                ).map(([a, b]): [string, string][] => [...a, ...b, ["authorization", "AWS4-HMAC-SHA256 Credential=k/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"], ["x-amz-date", "20200101T000000Z"]]),
                jsonBody(["TableName", "Key", "Item", "AttributeDefinitions", "KeySchema", "BillingMode", "KeyConditionExpression", "ExpressionAttributeValues", "ExpressionAttributeNames", "UpdateExpression", "RequestItems", "Limit", "ExclusiveStartKey", "ProvisionedThroughput"]),
            ),
        },
    ];

    for (const target of targets) {
        it(`${target.name}: malformed HTTP (aborted bodies, huge headers, bad framing and encodings) is answered below 500 or dropped`, async () => {
            for (const attack of malformedCases(target.port())) {
                const response = await sendRaw(target.port(), attack.bytes, { abortAfterWrite: attack.abort, timeoutMs: 5000 });
                if (attack.expectAnswer) {
                    assert.ok(response.status !== undefined && (response.status < 500 || target.allowed5xx?.(response, attack.bytes)), `${target.name}, ${attack.name}: answered ${response.status}`);
                }
            }
            assert.deepEqual(failures, []);
        });

        it(`${target.name}: ${RUNS} generated requests, none answered 5xx, and the server still serves`, async () => {
            const started = Date.now();
            const statuses: Record<string, number> = {};
            // A fixed seed: the same requests on every run, so a failure reproduces.
            const builds = fc.sample(target.request, { numRuns: RUNS, seed: SEED });
            const problems: string[] = [];
            let next = 0;
            const worker = async () => {
                while (next < builds.length) {
                    const bytes = await builds[next++]();
                    const response = await sendRaw(target.port(), bytes, { timeoutMs: 10_000 });
                    const status = response.status ?? 0;
                    statuses[status] = (statuses[status] ?? 0) + 1;
                    if (status >= 100 && (status < 500 || target.allowed5xx?.(response, bytes))) continue;
                    problems.push(`answered ${response.status ?? "nothing"}: ${response.body.slice(0, 300)}\nrequest: ${JSON.stringify(bytes.toString("latin1").slice(0, 1500))}\nlogged: ${JSON.stringify(errors.slice(-3))}`);
                }
            };
            await Promise.all(Array.from({ length: CONCURRENCY }, worker));
            tally[target.name] = { requests: builds.length, statuses, ms: Date.now() - started };
            assert.deepEqual(problems.slice(0, 3), [], `${problems.length} of ${builds.length} requests failed`);
            assert.deepEqual(failures, [], "no uncaught exception or unhandled rejection");
            const probe = requestBytes("GET", "/", [["host", `127.0.0.1:${target.port()}`]]);
            const alive = await sendRaw(target.port(), probe);
            assert.ok(alive.status !== undefined && (alive.status < 500 || target.allowed5xx?.(alive, probe)), `${target.name} no longer answers`);
        });
    }
});
