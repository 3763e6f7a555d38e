import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { signedFetch } from "../../../../tools/client/client";
import { CredentialStore } from "../../../../tools/local/sts/credentials";
import { LocalFunction } from "../../../../tools/local/lambda/functions";
import { LocalGateway } from "../../../../tools/local/apigateway/gateway";
import { LocalApi, LocalRegistry } from "../../../../tools/local/registry";
import { sendTamperedPost } from "../../../support/sigv4";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const API_ID = "a1b2c3d4e5";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/auth-role`;
const IDENTITY = "us-east-1:11111111-1111-4111-a111-111111111111";

// A stand-in deployment package: echoes the event and counts invocations in a global the
// worker keeps between calls, so a test can tell whether the handler ran at all.
const ECHO_BUNDLE = `
let calls = 0;
exports.handler = async (event) => {
    calls++;
    if (event.rawPath === "/notes/boom") throw new Error("boom");
    if (event.rawPath === "/notes/slow") await new Promise((resolve) => setTimeout(resolve, 3000));
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ calls, event, env: { TABLE_NAME: process.env.TABLE_NAME, SECRET: process.env.GATEWAY_SECRET } }) };
};`;

function policy(methods: string[]): string {
    const base = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/$default`;
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: methods.flatMap((m) => [`${base}/${m}/notes`, `${base}/${m}/notes/*`]) }],
    });
}

describe("local API gateway", function () {
    let dir: string;
    let registry: LocalRegistry;
    let store: CredentialStore;
    let gateway: LocalGateway;
    let fn: LocalFunction;
    let url: string;
    const lines: Record<string, unknown>[] = [];

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "gateway-"));
        registry = new LocalRegistry(REGION, ACCOUNT);
        store = new CredentialStore();
        registry.roles.set("auth-role", { name: "auth-role", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        // A reduced role policy: GET and POST only, so DELETE must be refused by the IAM decision.
        registry.inlinePolicies.set("auth-role", new Map([["invoke", policy(["GET", "POST"])]]));
        const fnArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:echo`;
        fn = new LocalFunction(
            { name: "echo", arn: fnArn, files: { "index.js": ECHO_BUNDLE }, handler: "index.handler", environment: { TABLE_NAME: "notes" }, timeoutSeconds: 1, roleArn: ROLE_ARN },
            path.join(dir, "echo"),
            () => ({ AWS_REGION: REGION }),
        );
        registry.functions.set("echo", fn);
        registry.permissions.push({ action: "lambda:InvokeFunction", functionRef: "echo", principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*/*` });
        const api: LocalApi = {
            id: API_ID,
            name: "notes",
            cors: { allowOrigins: ["http://localhost:5173"], allowMethods: ["GET", "POST", "DELETE"], allowHeaders: ["authorization", "x-amz-date", "x-amz-security-token", "content-type"], maxAge: 300 },
            routes: new Map(),
            integrations: new Map([["int1", { functionArn: fnArn, payloadFormatVersion: "2.0", type: "AWS_PROXY" }]]),
            stages: new Set(["$default"]),
        };
        for (const key of ["POST /notes", "GET /notes", "GET /notes/{id}", "DELETE /notes/{id}"]) {
            api.routes.set(key, { routeKey: key, authorizationType: "AWS_IAM", target: "integrations/int1" });
        }
        registry.apis.set(API_ID, api);
        gateway = new LocalGateway({ api, registry, store, log: (line) => lines.push(line) });
        url = `http://127.0.0.1:${await gateway.listen(0)}`;
        process.env.GATEWAY_SECRET = "must-not-leak-into-functions";
    });

    after(async () => {
        delete process.env.GATEWAY_SECRET;
        await gateway.close();
        await fn.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    const session = () => store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: IDENTITY, identityPoolId: "us-east-1:pool", amr: ["authenticated"] });
    const creds = (s = session()) => ({ accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken });

    it("invokes the route's function with a payload 2.0 event that carries the caller's identity", async () => {
        const response = await signedFetch(`${url}/notes/abc?x=1`, { credentials: creds(), region: REGION });
        assert.equal(response.status, 200, response.text);
        const { event, env } = response.json();
        assert.equal(event.version, "2.0");
        assert.equal(event.routeKey, "GET /notes/{id}");
        assert.equal(event.rawPath, "/notes/abc");
        assert.deepEqual(event.pathParameters, { id: "abc" });
        assert.deepEqual(event.queryStringParameters, { x: "1" });
        assert.equal(event.requestContext.http.method, "GET");
        assert.equal(event.requestContext.authorizer.iam.cognitoIdentity.identityId, IDENTITY);
        assert.deepEqual(event.requestContext.authorizer.iam.cognitoIdentity.amr, ["authenticated"]);
        assert.match(event.requestContext.authorizer.iam.userArn, /^arn:aws:sts::123456789012:assumed-role\/auth-role\//);
        assert.equal(env.TABLE_NAME, "notes");
        assert.equal(env.SECRET, undefined, "the function sees only its own environment");
    });

    it("passes a JSON body through as text and a binary body as base64", async () => {
        const json = await signedFetch(`${url}/notes`, { method: "POST", body: '{"title":"t"}', headers: { "content-type": "application/json" }, credentials: creds(), region: REGION });
        assert.equal(json.json().event.body, '{"title":"t"}');
        assert.equal(json.json().event.isBase64Encoded, false);
        const binary = await signedFetch(`${url}/notes`, { method: "POST", body: Buffer.from([0, 1, 2]), headers: { "content-type": "application/octet-stream" }, credentials: creds(), region: REGION });
        assert.equal(binary.json().event.body, "AAEC");
        assert.equal(binary.json().event.isBase64Encoded, true);
    });

    it("refuses a method the role policy does not allow, through the IAM decision, before the function runs", async () => {
        const before = fn.invocations;
        const response = await signedFetch(`${url}/notes/abc`, { method: "DELETE", credentials: creds(), region: REGION });
        assert.equal(response.status, 403);
        assert.match(response.json().message, /is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5\/\$default\/DELETE\/notes\/abc/);
        assert.equal(fn.invocations, before);
    });

    it("answers an unsigned request with 403 Forbidden", async () => {
        const response = await signedFetch(`${url}/notes`, { region: REGION });
        assert.equal(response.status, 403);
        assert.deepEqual(response.json(), { message: "Forbidden" });
    });

    it("rejects tampered, wrong-key, stale and token-less requests with API Gateway's messages", async () => {
        const before = fn.invocations;
        const s = session();
        const good = creds(s);

        const wrongSecret = await signedFetch(`${url}/notes`, { credentials: { ...good, secretAccessKey: "x".repeat(40) }, region: REGION });
        assert.equal(wrongSecret.status, 403);
        assert.match(wrongSecret.json().message, /^The request signature we calculated does not match/);

        const noToken = await signedFetch(`${url}/notes`, { credentials: { accessKeyId: good.accessKeyId, secretAccessKey: good.secretAccessKey }, region: REGION });
        assert.deepEqual([noToken.status, noToken.json().message], [403, "The security token included in the request is invalid."]);

        const unknownKey = await signedFetch(`${url}/notes`, { credentials: { ...good, accessKeyId: "ASIAUNKNOWNUNKNOWN00" }, region: REGION });
        assert.deepEqual([unknownKey.status, unknownKey.json().message], [403, "The security token included in the request is invalid."]);

        const stale = await signedFetch(`${url}/notes`, { credentials: good, region: REGION, signingDate: new Date(Date.now() - 20 * 60 * 1000) });
        assert.equal(stale.status, 403);
        assert.match(stale.json().message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);

        const future = await signedFetch(`${url}/notes`, { credentials: good, region: REGION, signingDate: new Date(Date.now() + 20 * 60 * 1000) });
        assert.equal(future.status, 403);
        assert.match(future.json().message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);

        const expired = store.mint({ roleArn: ROLE_ARN, sessionName: "old", identityId: IDENTITY, ttlSeconds: 60, now: Date.now() - 2 * 3600 * 1000 });
        const late = await signedFetch(`${url}/notes`, { credentials: creds(expired), region: REGION });
        assert.deepEqual([late.status, late.json().message], [403, "The security token included in the request is expired"]);

        const wrongService = await signedFetch(`${url}/notes`, { credentials: good, region: REGION, service: "s3" });
        assert.equal(wrongService.status, 403);

        // Tampering: sign one body, send another with the same headers (with and without the hash header).
        const tampered = await sendTamperedPost(`${url}/notes`, good, REGION, '{"title":"mine"}', '{"title":"evil"}');
        assert.equal(tampered.status, 403);
        assert.match(((await tampered.json()) as { message: string }).message, /^The request signature we calculated does not match/);
        const tamperedNoHash = await sendTamperedPost(`${url}/notes`, good, REGION, '{"title":"mine"}', '{"title":"evil"}', false);
        assert.equal(tamperedNoHash.status, 403);

        assert.equal(fn.invocations, before, "no request above reached the function");
    });

    it("answers a CORS preflight from the API's configuration without a signature", async () => {
        const response = await fetch(`${url}/notes/abc`, { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-method": "DELETE", "access-control-request-headers": "authorization" } });
        assert.equal(response.status, 204);
        assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
        assert.equal(response.headers.get("access-control-allow-methods"), "GET,POST,DELETE");
        assert.match(response.headers.get("access-control-allow-headers") ?? "", /authorization/);
        const foreign = await fetch(`${url}/notes`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
        assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    });

    it("adds CORS headers to gateway errors so browsers can read a 403", async () => {
        const response = await fetch(`${url}/notes`, { headers: { origin: "http://localhost:5173" } });
        assert.equal(response.status, 403);
        assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:5173");
    });

    it("answers an unknown route with 404 Not Found", async () => {
        const response = await signedFetch(`${url}/nope`, { credentials: creds(), region: REGION });
        assert.deepEqual([response.status, response.json()], [404, { message: "Not Found" }]);
    });

    it("fails a function that runs past its timeout with 500 and serves the next request from a fresh environment", async () => {
        const slow = await signedFetch(`${url}/notes/slow`, { credentials: creds(), region: REGION });
        assert.deepEqual([slow.status, slow.json()], [500, { message: "Internal Server Error" }]);
        const next = await signedFetch(`${url}/notes/after`, { credentials: creds(), region: REGION });
        assert.equal(next.status, 200);
        assert.equal(next.json().calls, 1, "the timed-out environment was replaced");
    });

    it("turns a function error into 500 with a generic message", async () => {
        const response = await signedFetch(`${url}/notes/boom`, { credentials: creds(), region: REGION });
        assert.deepEqual([response.status, response.json()], [500, { message: "Internal Server Error" }]);
    });
});
