import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, Server } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { HandlerName, NOTES_ROUTES } from "../../components/api";
import { BUNDLE_FILE, bundleHandler } from "../../lib/bundle";
import { expectedRoute, routeKeysToTest } from "../support/expected-api";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { httpEvent, newIdentityId } from "../../tools/local/apigateway/event";
import { HARMLESS_WARNINGS_OFF } from "../support/warnings";

/** Sits between the bundles and dynalite (and stands in for S3), recording every AWS operation sent. */
class RecordingProxy {
    readonly operations: string[] = [];
    private server?: Server;

    constructor(private readonly dynamoPort: number) {}

    async start(): Promise<string> {
        this.server = createServer((req, res) => {
            const target = req.headers["x-amz-target"];
            if (typeof target === "string") {
                this.operations.push(`dynamodb:${target.split(".")[1]}`);
                const upstream = request({ host: "127.0.0.1", port: this.dynamoPort, method: req.method, path: req.url, headers: req.headers }, (reply) => {
                    res.writeHead(reply.statusCode ?? 500, reply.headers);
                    reply.pipe(res);
                });
                req.pipe(upstream);
                return;
            }
            // Anything else is S3 (path-style): record the REST operation and succeed.
            req.resume();
            const s3Operation: Record<string, string> = { DELETE: "DeleteObject", GET: "GetObject", PUT: "PutObject", HEAD: "HeadObject" };
            this.operations.push(`s3:${s3Operation[req.method ?? ""] ?? req.method}`);
            res.writeHead(req.method === "DELETE" ? 204 : 200).end();
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    take(): string[] {
        return [...new Set(this.operations.splice(0))].sort();
    }

    stop(): Promise<void> {
        this.server?.closeAllConnections();
        return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
    }
}

describe("each function's role against what its deployed bundle really sends", () => {
    const user = newIdentityId();
    const noteId = "01JD0000000000000000000000";
    let dynamo: LocalDynamo;
    let proxy: RecordingProxy;
    let proxyUrl: string;
    let dir: string;

    before(async () => {
        dynamo = await startDynalite();
        proxy = new RecordingProxy(dynamo.port);
        proxyUrl = await proxy.start();
        dir = mkdtempSync(path.join(tmpdir(), "notes-permissions-"));
    });
    after(async () => {
        await proxy.stop();
        await dynamo.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    beforeEach(async () => {
        // A note with an attachment, at version 3, so every path (200, 404, 412, clean-up) runs.
        const now = new Date().toISOString();
        await dynamo.client.send(
            new PutCommand({
                TableName: dynamo.tableName,
                Item: { userId: user, noteId, content: "seed", attachment: `private/${user}/a.txt`, version: 3, createdAt: now, updatedAt: now },
            }),
        );
    });

    /** Every path a handler can take, so the set of operations is complete. */
    const scenarios: Record<string, { method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number }[]> = {
        create: [{ method: "POST", path: "/notes", body: { content: "hello" }, status: 201 }],
        list: [
            { method: "GET", path: "/notes?limit=1", status: 200 },
            { method: "GET", path: "/notes", status: 200 },
        ],
        get: [
            { method: "GET", path: `/notes/${noteId}`, status: 200 },
            { method: "GET", path: "/notes/01JD0000000000000000000099", status: 404 },
        ],
        update: [
            { method: "PUT", path: `/notes/${noteId}`, body: { content: "x" }, headers: { "if-match": '"1"' }, status: 412 },
            { method: "PUT", path: "/notes/01JD0000000000000000000099", body: { content: "x" }, headers: { "if-match": '"1"' }, status: 404 },
            { method: "PUT", path: `/notes/${noteId}`, body: { content: "x" }, status: 200 },
        ],
        delete: [
            { method: "DELETE", path: `/notes/${noteId}`, headers: { "if-match": '"1"' }, status: 412 },
            { method: "DELETE", path: `/notes/${noteId}`, status: 204 },
            { method: "DELETE", path: `/notes/${noteId}`, status: 404 },
        ],
    };

    // Every expected route, and every route the component declares: one nobody expected fails by name.
    for (const routeKey of routeKeysToTest(NOTES_ROUTES.map((route) => `${route.method} ${route.path}`))) {
        it(`${routeKey} sends exactly the operations its role allows`, async () => {
            const route = expectedRoute(routeKey);
            const steps = scenarios[route.handler];
            assert.ok(steps, `no scenarios for the ${route.handler} function: add every path it can take to \`scenarios\``);
            // The whole deployment package: the delete function requires its s3.js on the first attachment delete.
            const packageDir = path.join(dir, route.handler);
            mkdirSync(packageDir, { recursive: true });
            for (const [file, text] of Object.entries(bundleHandler(route.handler as HandlerName).files)) writeFileSync(path.join(packageDir, file), text);
            const bundlePath = path.join(packageDir, BUNDLE_FILE);
            const events = steps.map((step) => httpEvent({ identityId: user, method: step.method as never, path: step.path, body: step.body, headers: step.headers }));
            const resultPath = path.join(dir, `${route.handler}.responses.json`);
            proxy.take();
            await new Promise<void>((resolve, reject) => {
                const child = execFile(
                    process.execPath,
                    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "..", "support", "invoke-bundle.ts")],
                    {
                        env: {
                            ...HARMLESS_WARNINGS_OFF,
                            PATH: process.env.PATH,
                            TABLE_NAME: dynamo.tableName,
                            BUCKET_NAME: "uploads",
                            AWS_REGION: "us-east-1",
                            AWS_ACCESS_KEY_ID: "test",
                            AWS_SECRET_ACCESS_KEY: "test",
                            AWS_ENDPOINT_URL_DYNAMODB: proxyUrl,
                            AWS_ENDPOINT_URL_S3: proxyUrl,
                        },
                    },
                    (error, _out, err) => (error ? reject(new Error(err || error.message)) : resolve()),
                );
                child.stdin!.end(JSON.stringify({ bundlePath, events, resultPath }));
            });
            const statuses = JSON.parse(readFileSync(resultPath, "utf8")).map((response: { statusCode: number }) => response.statusCode);
            assert.deepEqual(statuses, steps.map((step) => step.status));
            const expected = [...route.tableActions, ...(route.bucket?.actions ?? [])].sort();
            assert.deepEqual(proxy.take(), expected);
        });
    }
});
