import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createNote, MAX_CONTENT_BYTES } from "../../../../handlers/notes";
import { bundleHandler } from "../../../../lib/bundle";
import { signedFetch } from "../../../../tools/client/client";
import { CredentialStore } from "../../../../tools/local/sts/credentials";
import { LocalFunction } from "../../../../tools/local/lambda/functions";
import { LocalGateway } from "../../../../tools/local/apigateway/gateway";
import { LocalApi, LocalRegistry } from "../../../../tools/local/registry";
import { LocalDynamo, startDynalite } from "../../../../tools/local/dynamodb/dynalite";
import { newIdentityId } from "../../../../tools/local/apigateway/event";
import { localLambdaEnv } from "../../../../tools/local/lambda/environment";
import { HARMLESS_WARNINGS_OFF } from "../../../support/warnings";

// Lambda fails an invocation whose serialized result is over 6 MB (6,291,456 bytes) and HTTP API
// answers the client 500 {"message":"Internal Server Error"}; the local gateway does the same.
const LIMIT = 6 * 1024 * 1024;
const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const API_ID = "r1e2s3p4o5";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/auth-role`;

// Answers with a result that serializes to exactly `?bytes=` bytes, its body made of `?char=`.
const SIZED_BUNDLE = `
exports.handler = async (event) => {
    const { bytes, char } = event.queryStringParameters;
    const base = { statusCode: 200, headers: { "content-type": "text/plain" }, body: "" };
    const overhead = JSON.stringify(base).length;
    const perChar = JSON.stringify(char).length - 2;
    return { ...base, body: char.repeat(Math.floor((Number(bytes) - overhead) / perChar)) };
};`;

describe("local API gateway and Lambda's response size limit", function () {
    this.timeout(60_000);
    let dir: string;
    let db: LocalDynamo;
    let gateway: LocalGateway;
    let functions: LocalFunction[];
    let url: string;
    const store = new CredentialStore();
    const lines: Record<string, unknown>[] = [];

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "response-limit-"));
        db = await startDynalite();
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("auth-role", { name: "auth-role", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set(
            "auth-role",
            new Map([["invoke", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*/GET/notes` }] })]]),
        );
        const definitions: Array<{ name: string; files: Record<string, string>; environment: Record<string, string> }> = [
            { name: "sized", files: { "index.js": SIZED_BUNDLE }, environment: {} },
            { name: "list", files: { "index.js": bundleHandler("list").code }, environment: { TABLE_NAME: db.tableName, LOG_LEVEL: "WARN" } },
        ];
        functions = definitions.map(
            (definition) =>
                new LocalFunction(
                    { ...definition, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${definition.name}`, handler: "index.handler", timeoutSeconds: 20, roleArn: ROLE_ARN },
                    path.join(dir, definition.name),
                    () => ({ ...HARMLESS_WARNINGS_OFF, ...localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint }) }),
                ),
        );
        const api: LocalApi = { id: API_ID, name: "notes", routes: new Map(), integrations: new Map(), stages: new Set(["$default"]) };
        for (const [fn, routeKey, authorizationType] of [[functions[0], "GET /sized", "NONE"], [functions[1], "GET /notes", "AWS_IAM"]] as const) {
            registry.functions.set(fn.definition.name, fn);
            registry.permissions.push({ action: "lambda:InvokeFunction", functionRef: fn.definition.name, principal: "apigateway.amazonaws.com", sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/*/*` });
            api.integrations.set(fn.definition.name, { functionArn: fn.definition.arn, payloadFormatVersion: "2.0", type: "AWS_PROXY" });
            api.routes.set(routeKey, { routeKey, authorizationType, target: `integrations/${fn.definition.name}` });
        }
        registry.apis.set(API_ID, api);
        gateway = new LocalGateway({ api, registry, store, log: (line) => lines.push(line) });
        url = `http://127.0.0.1:${await gateway.listen(0)}`;
    });

    after(async () => {
        await gateway.close();
        for (const fn of functions) await fn.stop();
        await db.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    it("passes a result of exactly 6,291,456 serialized bytes", async () => {
        const response = await fetch(`${url}/sized?bytes=${LIMIT}&char=x`);
        assert.equal(response.status, 200);
        assert.equal((await response.text()).length, LIMIT - JSON.stringify({ statusCode: 200, headers: { "content-type": "text/plain" }, body: "" }).length);
    });

    it("answers 500 Internal Server Error to a result one byte over, and logs Lambda's error", async () => {
        const response = await fetch(`${url}/sized?bytes=${LIMIT + 1}&char=x`);
        assert.deepEqual([response.status, await response.json()], [500, { message: "Internal Server Error" }]);
        const line = lines.find((entry) => entry.errorType === "Function.ResponseSizeTooLarge");
        assert.ok(line, "the gateway logs why");
        assert.equal(line.function, "sized");
        assert.equal(line.responseBytes, LIMIT + 1);
        assert.match(String(line.message), /^Response payload size exceeded maximum allowed payload size/);
    });

    it("counts the serialized result, not the body: 3.2 MB of quotation marks is over the limit", async () => {
        // A body of N `"` serializes to 2N bytes inside the result.
        const response = await fetch(`${url}/sized?bytes=${6_400_000}&char=%22`);
        assert.equal(response.status, 500);
    });

    it("serves every page of 45 notes of 64 KiB of quotation marks through the real list function", async () => {
        const user = newIdentityId();
        for (let i = 0; i < 45; i++) await createNote({ client: db.client, tableName: db.tableName }, user, { content: '"'.repeat(MAX_CONTENT_BYTES) });
        const session = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: user, identityPoolId: `${REGION}:pool`, amr: ["authenticated"] });
        const credentials = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
        const seen = new Set<string>();
        let cursor: string | undefined;
        let pages = 0;
        do {
            const response = await signedFetch(`${url}/notes?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { credentials, region: REGION });
            assert.equal(response.status, 200, `page ${pages + 1}: ${response.text.slice(0, 200)}`);
            const page = response.json<{ notes: Array<{ noteId: string; content: string }>; cursor?: string }>();
            for (const note of page.notes) {
                assert.equal(note.content.length, MAX_CONTENT_BYTES);
                seen.add(note.noteId);
            }
            cursor = page.cursor;
            pages++;
        } while (cursor && pages < 10);
        assert.equal(seen.size, 45);
        assert.equal(pages, 2);
    });
});
