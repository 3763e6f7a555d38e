import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { CredentialStore } from "../../tools/local/sts/credentials";
import { LocalRegistry } from "../../tools/local/registry";
import { LocalS3 } from "../../tools/local/s3/front";
import { LocalDynamo, LOCAL_REGION, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { httpEvent, HttpEventInput, newIdentityId } from "../../tools/local/apigateway/event";
import { localLambdaEnv } from "../../tools/local/lambda/environment";
import { forgetHandlerModules, LoadedHandlers, loadHandlers } from "../support/handlers";
import { captureLogs, CapturedLogs } from "../support/logs";

describe("Lambda handlers (payload 2.0 events against dynalite)", () => {
    let db: LocalDynamo;
    let lambdas: LoadedHandlers;
    let logs: CapturedLogs;

    before(async () => {
        db = await startDynalite();
        lambdas = loadHandlers(localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint }));
    });
    after(async () => {
        lambdas?.restoreEnv();
        await db?.stop();
    });
    beforeEach(() => {
        logs = captureLogs();
    });
    afterEach(() => {
        logs.restore();
    });

    const ROUTES = {
        POST: "create",
        GET: "get",
        PUT: "update",
        DELETE: "delete",
    } as const;

    /** Sends the event to the function its route maps to, as API Gateway would. */
    async function call(input: HttpEventInput) {
        const event = httpEvent(input);
        const name = input.method === "GET" && event.routeKey === "GET /notes" ? "list" : ROUTES[input.method];
        const response = await lambdas[name].handler(event, { awsRequestId: "lambda-req-1" });
        return { ...response, json: response.body === undefined ? undefined : JSON.parse(response.body) };
    }

    async function itemCount(): Promise<number> {
        const { Count } = await db.client.send(new ScanCommand({ TableName: db.tableName, Select: "COUNT" }));
        return Count ?? 0;
    }

    async function created(user: string, body: unknown = { content: "hello" }) {
        const res = await call({ identityId: user, method: "POST", path: "/notes", body });
        assert.equal(res.statusCode, 201, res.body);
        return res.json;
    }

    it("POST /notes answers 201 with the note as JSON and its ETag", async () => {
        const user = newIdentityId();
        const res = await call({ identityId: user, method: "POST", path: "/notes", body: { content: "hello" } });
        assert.equal(res.statusCode, 201);
        assert.equal(res.headers["content-type"], "application/json");
        assert.equal(res.headers.etag, '"1"');
        assert.equal(res.json.content, "hello");
        assert.equal(res.json.version, 1);
        assert.equal(res.json.userId, undefined, "the partition key is not echoed");
        assert.equal(res.headers["access-control-allow-origin"], undefined, "CORS is the gateway's job");
    });

    it("GET /notes/{id} answers 200 with the note and a quoted-version ETag", async () => {
        const user = newIdentityId();
        const note = await created(user);
        const res = await call({ identityId: user, method: "GET", path: `/notes/${note.noteId}` });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json, note);
        assert.equal(res.headers.etag, '"1"');
    });

    it("GET /notes answers 200 with the caller's notes newest first and a cursor for the next page", async () => {
        const user = newIdentityId();
        const first = await created(user, { content: "first" });
        const second = await created(user, { content: "second" });
        const page1 = await call({ identityId: user, method: "GET", path: "/notes?limit=1" });
        assert.equal(page1.statusCode, 200);
        assert.deepEqual(page1.json.notes, [second]);
        const page2 = await call({
            identityId: user,
            method: "GET",
            path: `/notes?limit=1&cursor=${encodeURIComponent(page1.json.cursor)}`,
        });
        assert.deepEqual(page2.json, { notes: [first] });
    });

    it("PUT /notes/{id} answers 200 with the new version; a stale If-Match answers 412", async () => {
        const user = newIdentityId();
        const note = await created(user);
        const put = (ifMatch: string, content: string) =>
            call({ identityId: user, method: "PUT", path: `/notes/${note.noteId}`, body: { content }, headers: { "If-Match": ifMatch } });
        const ok = await put('"1"', "v2");
        assert.equal(ok.statusCode, 200);
        assert.equal(ok.headers.etag, '"2"');
        assert.equal(ok.json.content, "v2");
        const stale = await put('"1"', "lost update");
        assert.equal(stale.statusCode, 412);
        assert.match(stale.json.message, /changed/);
        const current = await call({ identityId: user, method: "GET", path: `/notes/${note.noteId}` });
        assert.equal(current.json.content, "v2");
    });

    it("DELETE /notes/{id} answers 204 without a body, then the note is gone (404)", async () => {
        const user = newIdentityId();
        const note = await created(user);
        const stale = await call({ identityId: user, method: "DELETE", path: `/notes/${note.noteId}`, headers: { "if-match": '"9"' } });
        assert.equal(stale.statusCode, 412);
        const res = await call({ identityId: user, method: "DELETE", path: `/notes/${note.noteId}`, headers: { "if-match": '"1"' } });
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, undefined);
        const again = await call({ identityId: user, method: "DELETE", path: `/notes/${note.noteId}` });
        assert.equal(again.statusCode, 404);
        assert.deepEqual(again.json, { message: "Note not found" });
    });

    it("user B gets 404 for reading, updating or deleting user A's note and an empty list; A's note is unchanged", async () => {
        const a = newIdentityId();
        const b = newIdentityId();
        const note = await created(a, { content: "A only" });
        const path = `/notes/${note.noteId}`;
        const attempts = [
            await call({ identityId: b, method: "GET", path }),
            await call({ identityId: b, method: "PUT", path, body: { content: "B was here" } }),
            await call({ identityId: b, method: "PUT", path, body: { content: "B was here" }, headers: { "if-match": "*" } }),
            await call({ identityId: b, method: "DELETE", path }),
            await call({ identityId: b, method: "DELETE", path, headers: { "if-match": '"1"' } }),
        ];
        assert.deepEqual(attempts.map((r) => r.statusCode), [404, 404, 404, 404, 404]);
        const list = await call({ identityId: b, method: "GET", path: "/notes" });
        assert.deepEqual(list.json, { notes: [] });
        const mine = await call({ identityId: a, method: "GET", path });
        assert.deepEqual(mine.json, note);
    });

    describe("without a Cognito identity", () => {
        const attempts: HttpEventInput[] = [
            { identityId: null, method: "POST", path: "/notes", body: { content: "x" } },
            { identityId: null, method: "GET", path: "/notes" },
            { identityId: null, method: "GET", path: "/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV" },
            { identityId: null, method: "PUT", path: "/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV", body: { content: "x" } },
            { identityId: null, method: "DELETE", path: "/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV" },
            { identityId: "", method: "POST", path: "/notes", body: { content: "x" } },
        ];
        for (const attempt of attempts) {
            it(`answers 403 to ${attempt.method} ${attempt.path}${attempt.identityId === "" ? " (empty identity id)" : ""} and stores nothing`, async () => {
                const before = await itemCount();
                const res = await call(attempt);
                assert.equal(res.statusCode, 403);
                assert.match(res.json.message, /Forbidden/);
                assert.equal(await itemCount(), before);
            });
        }

        it("answers 403 to an unauthenticated Identity Pool identity", async () => {
            const event = httpEvent({ identityId: newIdentityId(), method: "POST", path: "/notes", body: { content: "x" } });
            event.requestContext!.authorizer!.iam!.cognitoIdentity!.amr = ["unauthenticated"];
            const res = await lambdas.create.handler(event);
            assert.equal(res.statusCode, 403);
        });

        it("ignores a userId smuggled in headers, query or body: the note lands in the caller's partition", async () => {
            const caller = newIdentityId();
            const victim = newIdentityId();
            const spoofed = await call({
                identityId: caller,
                method: "POST",
                path: "/notes",
                body: { content: "x", userId: victim },
                headers: { "x-user-id": victim, "x-amz-cognito-identity-id": victim },
            });
            assert.equal(spoofed.statusCode, 400);
            const res = await call({
                identityId: caller,
                method: "POST",
                path: `/notes?userId=${encodeURIComponent(victim)}`,
                body: { content: "x" },
                headers: { "x-user-id": victim },
            });
            assert.equal(res.statusCode, 201);
            const list = await call({ identityId: victim, method: "GET", path: "/notes" });
            assert.deepEqual(list.json.notes, []);
            const mine = await call({ identityId: caller, method: "GET", path: "/notes" });
            assert.deepEqual(mine.json.notes.map((n: { noteId: string }) => n.noteId), [res.json.noteId]);
        });
    });

    describe("bad input answers 400 with a clear message", () => {
        const user = newIdentityId();
        const cases: Array<[string, HttpEventInput, RegExp]> = [
            ["bad JSON", { identityId: user, method: "POST", path: "/notes", body: "{not json" }, /not valid JSON/],
            ["a missing body", { identityId: user, method: "POST", path: "/notes" }, /body is required/],
            ["a wrong type", { identityId: user, method: "POST", path: "/notes", body: { content: ["x"] } }, /content must be a string/],
            ["an unknown field", { identityId: user, method: "POST", path: "/notes", body: { content: "x", owner: "me" } }, /Unknown field\(s\): "owner"/],
            ["content over 64 KiB", { identityId: user, method: "POST", path: "/notes", body: { content: "x".repeat(65537) } }, /at most 65536 bytes/],
            ["a body over the raw size cap", { identityId: user, method: "POST", path: "/notes", body: JSON.stringify({ content: "x".repeat(600 * 1024) }) }, /larger than/],
            ["an attachment outside the caller's prefix", { identityId: user, method: "POST", path: "/notes", body: { content: "x", attachment: "private/us-east-1:other/a" } }, /own prefix/],
            ["limit=0", { identityId: user, method: "GET", path: "/notes?limit=0" }, /limit must be/],
            ["limit=500", { identityId: user, method: "GET", path: "/notes?limit=500" }, /limit must be/],
            ["a garbled cursor", { identityId: user, method: "GET", path: "/notes?cursor=%%%" }, /cursor is not valid/],
            ["an id that is not a ULID", { identityId: user, method: "GET", path: "/notes/abc" }, /ULID/],
            ["a malformed If-Match", { identityId: user, method: "PUT", path: "/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV", body: { content: "x" }, headers: { "if-match": "v1" } }, /If-Match/],
        ];
        for (const [what, input, message] of cases) {
            it(`rejects ${what}`, async () => {
                const res = await call(input);
                assert.equal(res.statusCode, 400, res.body);
                assert.equal(res.headers["content-type"], "application/json");
                assert.match(res.json.message, message);
            });
        }

        it("decodes a base64-encoded body as API Gateway may deliver it", async () => {
            const event = httpEvent({ identityId: user, method: "POST", path: "/notes" });
            event.body = Buffer.from(JSON.stringify({ content: "über" })).toString("base64");
            event.isBase64Encoded = true;
            const res = await lambdas.create.handler(event);
            assert.equal(res.statusCode, 201);
            assert.equal(JSON.parse(res.body!).content, "über");
        });
    });

    it("logs one structured line per request with both request ids and no note content", async () => {
        const user = newIdentityId();
        await call({ identityId: user, method: "POST", path: "/notes", body: { content: "my secret plans" } });
        const line = logs.lines.find((l) => l.message === "Request handled");
        assert.ok(line, logs.raw.join("\n"));
        assert.equal(line.statusCode, 201);
        assert.equal(line.level, "INFO");
        assert.equal(line.requestId, "lambda-req-1");
        assert.match(String(line.apiRequestId), /^test-request-/);
        assert.equal(line.route, "POST /notes");
        assert.ok(!logs.raw.join("\n").includes("my secret plans"));
    });

    it("answers 500 'Internal error' to an unexpected failure and logs the detail with the request id", async () => {
        const broken = loadHandlers({ ...localLambdaEnv({ tableName: "no-such-table", dynamoEndpoint: db.endpoint }) });
        try {
            const event = httpEvent({ identityId: newIdentityId(), method: "POST", path: "/notes", body: { content: "private text" } });
            const res = await broken.create.handler(event, { awsRequestId: "lambda-req-500" });
            assert.equal(res.statusCode, 500);
            assert.deepEqual(JSON.parse(res.body!), { message: "Internal error" });
            const error = logs.lines.find((l) => l.level === "ERROR");
            assert.ok(error, logs.raw.join("\n"));
            assert.equal(error.message, "Unhandled error");
            assert.equal(error.requestId, "lambda-req-500");
            assert.equal(error.apiRequestId, event.requestContext!.requestId);
            assert.equal((error.error as { name: string }).name, "ResourceNotFoundException");
            assert.ok(!logs.raw.join("\n").includes("private text"));
        } finally {
            broken.restoreEnv();
        }
    });

    it("answers 503 with Retry-After when DynamoDB stops mid-test", async () => {
        const local = await startDynalite();
        const env = localLambdaEnv({ tableName: local.tableName, dynamoEndpoint: local.endpoint });
        const own = loadHandlers(env);
        try {
            const user = newIdentityId();
            const create = await own.create.handler(httpEvent({ identityId: user, method: "POST", path: "/notes", body: { content: "x" } }));
            assert.equal(create.statusCode, 201);
            const noteId = JSON.parse(create.body!).noteId;
            await local.stop();
            for (const [name, input] of [
                ["get", { identityId: user, method: "GET", path: `/notes/${noteId}` }],
                ["list", { identityId: user, method: "GET", path: "/notes" }],
                ["create", { identityId: user, method: "POST", path: "/notes", body: { content: "y" } }],
                ["update", { identityId: user, method: "PUT", path: `/notes/${noteId}`, body: { content: "y" } }],
                ["delete", { identityId: user, method: "DELETE", path: `/notes/${noteId}` }],
            ] as const) {
                const res = await own[name].handler(httpEvent(input as HttpEventInput));
                assert.equal(res.statusCode, 503, `${name}: ${res.body}`);
                assert.ok(Number(res.headers["retry-after"]) >= 1, `${name} Retry-After`);
                assert.match(JSON.parse(res.body!).message, /temporarily unavailable/);
            }
            // Each request gave up after the client's three attempts (not after Lambda's timeout), and said so.
            const unavailable = logs.lines.filter((l) => l.level === "WARN" && l.message === "Dependency unavailable");
            assert.deepEqual(
                unavailable.map((l) => (l.error as { code?: string; attempts?: number })).map(({ code, attempts }) => ({ code, attempts })),
                Array.from({ length: 5 }, () => ({ code: "ECONNREFUSED", attempts: 3 })),
            );
            assert.ok(!logs.lines.some((l) => l.level === "ERROR"), "a 503 is not logged as an unhandled error");
        } finally {
            own.restoreEnv();
        }
    });

    it("fails at load time with a message naming a missing environment variable", () => {
        forgetHandlerModules();
        assert.throws(
            () => loadHandlers({ ...localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint }), BUCKET_NAME: undefined }),
            /BUCKET_NAME is required/,
        );
        assert.throws(
            () => loadHandlers({ ...localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint }), TABLE_NAME: undefined }),
            /TABLE_NAME is required/,
        );
    });
});

describe("DELETE /notes/{id} with a real S3 API (the local S3 front)", () => {
    const bucket = "notes-uploads-test";
    const account = "123456789012";
    /** The delete function's role, with the statement the program gives it (components/api.ts). */
    const functionRole = `arn:aws:iam::${account}:role/notes-api-delete`;
    /** A role for this test's own client, which stores the objects and looks for them. */
    const testerRole = `arn:aws:iam::${account}:role/tester`;
    let db: LocalDynamo;
    let front: LocalS3;
    let dir: string;
    let s3: S3Client;
    let lambdas: LoadedHandlers;
    let logs: CapturedLogs;

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "notes-s3-"));
        const registry = new LocalRegistry(LOCAL_REGION, account);
        const allow = (Action: string[], Resource: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action, Resource }] });
        registry.roles.set("notes-api-delete", { name: "notes-api-delete", arn: functionRole, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set("notes-api-delete", new Map([["attachment-cleanup", allow(["s3:DeleteObject"], `arn:aws:s3:::${bucket}/private/*`)]]));
        registry.roles.set("tester", { name: "tester", arn: testerRole, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set("tester", new Map([["objects", allow(["s3:PutObject", "s3:GetObject"], `arn:aws:s3:::${bucket}/*`)]]));
        const store = new CredentialStore();
        front = new LocalS3({ dataDir: dir, registry, store, log: () => undefined });
        const endpoint = `http://127.0.0.1:${await front.listen(0)}`;
        await front.createBucket(bucket);
        // The local S3 verifies every signature against the sessions it issued and decides each action with IAM.
        const tester = store.mint({ roleArn: testerRole, sessionName: "handlers-test" });
        const credentials = { accessKeyId: tester.accessKeyId, secretAccessKey: tester.secretAccessKey, sessionToken: tester.sessionToken };
        s3 = new S3Client({ endpoint, region: LOCAL_REGION, credentials, forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED" });
        const fn = store.mint({ roleArn: functionRole, sessionName: "notes-api-delete" });
        db = await startDynalite();
        lambdas = loadHandlers({
            ...localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint, bucketName: bucket, s3Endpoint: endpoint }),
            AWS_ACCESS_KEY_ID: fn.accessKeyId,
            AWS_SECRET_ACCESS_KEY: fn.secretAccessKey,
            AWS_SESSION_TOKEN: fn.sessionToken,
        });
    });
    after(async () => {
        lambdas?.restoreEnv();
        s3?.destroy();
        await db?.stop();
        await front?.close();
        rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
        logs = captureLogs();
    });
    afterEach(() => logs.restore());

    async function exists(key: string): Promise<boolean> {
        try {
            await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
            return true;
        } catch (error) {
            if ((error as Error).name === "NotFound") return false;
            throw error;
        }
    }

    it("removes the note's attachment object and leaves the caller's other files alone", async () => {
        const user = newIdentityId();
        const attachment = `private/${user}/photo.jpg`;
        const other = `private/${user}/keep.txt`;
        for (const key of [attachment, other]) {
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "bytes" }));
        }
        const create = await lambdas.create.handler(
            httpEvent({ identityId: user, method: "POST", path: "/notes", body: { content: "x", attachment } }),
        );
        assert.equal(create.statusCode, 201);
        const { noteId } = JSON.parse(create.body!);
        const res = await lambdas.delete.handler(httpEvent({ identityId: user, method: "DELETE", path: `/notes/${noteId}` }));
        assert.equal(res.statusCode, 204);
        assert.equal(await exists(attachment), false);
        assert.equal(await exists(other), true);
        assert.ok(!logs.lines.some((l) => l.level === "ERROR" || l.level === "WARN"), logs.raw.join("\n"));
    });
});
