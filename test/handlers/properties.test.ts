/**
 * Property-based attacks on the handlers (issue 5, "Isolation and bad input"): fast-check drives
 * the exported Lambda handlers with generated bodies, path ids, query strings and headers, against
 * dynalite. 2,000 generated requests in all (see NUM_RUNS); a few seconds on two cores.
 */
import * as assert from "node:assert/strict";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as fc from "fast-check";
import { isValid as isUlid } from "ulid";
import { createNote } from "../../handlers/notes";
import type { Note } from "../../handlers/types";
import { encodeCursor, MAX_CONTENT_BYTES } from "../../handlers/validation";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { httpEvent, HttpEventInput } from "../../tools/local/apigateway/event";
import { localLambdaEnv } from "../../tools/local/lambda/environment";
import { LoadedHandlers, loadHandlers } from "../support/handlers";
import { captureLogs, CapturedLogs } from "../support/logs";

const NUM_RUNS = { createBodies: 500, updateBodies: 500, paths: 500, queries: 500 };

/** `writeToken`: the last update's request token, by which a retried update recognises itself. */
const STORED_KEYS = new Set(["userId", "noteId", "content", "attachment", "createdAt", "updatedAt", "version", "writeToken"]);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The stored-note schema, checked independently of the handlers' own validation. */
function assertValidStoredNote(item: Record<string, unknown>, userId: string): void {
    for (const key of Object.keys(item)) assert.ok(STORED_KEYS.has(key), `unexpected stored attribute ${key}`);
    assert.equal(item.userId, userId);
    assert.ok(typeof item.noteId === "string" && isUlid(item.noteId), `noteId ${String(item.noteId)}`);
    assert.equal(typeof item.content, "string");
    const content = item.content as string;
    assert.ok(content.length > 0 && Buffer.byteLength(content) <= MAX_CONTENT_BYTES && !LONE_SURROGATE.test(content));
    if (item.attachment !== undefined) {
        assert.equal(typeof item.attachment, "string");
        assert.ok((item.attachment as string).startsWith(`private/${userId}/`), `attachment ${String(item.attachment)}`);
    }
    assert.match(String(item.createdAt), ISO);
    assert.match(String(item.updatedAt), ISO);
    assert.ok(Number.isInteger(item.version) && (item.version as number) >= 1);
    if (item.writeToken !== undefined) assert.ok(typeof item.writeToken === "string" && item.version !== 1, "only an update stores a write token");
}

describe("handlers under generated input (fast-check)", () => {
    let db: LocalDynamo;
    let lambdas: LoadedHandlers;
    let logs: CapturedLogs;
    const victim = "us-east-1:11111111-1111-4111-8111-111111111111";
    let victimNotes: Note[];
    let victimSnapshot: Array<Record<string, unknown>>;

    async function partition(userId: string): Promise<Array<Record<string, unknown>>> {
        const { Items } = await db.client.send(
            new QueryCommand({
                TableName: db.tableName,
                KeyConditionExpression: "userId = :u",
                ExpressionAttributeValues: { ":u": userId },
                ConsistentRead: true,
            }),
        );
        return Items ?? [];
    }

    before(async () => {
        db = await startDynalite();
        lambdas = loadHandlers(localLambdaEnv({ tableName: db.tableName, dynamoEndpoint: db.endpoint }));
        const deps = { client: db.client, tableName: db.tableName };
        victimNotes = [];
        for (let i = 0; i < 3; i++) {
            victimNotes.push(await createNote(deps, victim, { content: `victim ${i}`, attachment: `private/${victim}/f${i}` }));
        }
        victimSnapshot = await partition(victim);
        logs = captureLogs();
    });
    after(async () => {
        logs?.restore();
        lambdas?.restoreEnv();
        await db?.stop();
    });
    afterEach(async function () {
        // Whatever the generated requests did, the victim's partition is untouched.
        assert.deepEqual(await partition(victim), victimSnapshot, `victim data changed in: ${this.currentTest?.title}`);
        assert.ok(!logs.lines.some((l) => l.level === "ERROR"), "no unhandled error was logged");
    });

    // -----------------------------------------------------------------------------------------
    // Generators

    const caller = fc.uuid({ version: 4 }).map((uuid) => `us-east-1:${uuid}`);
    const anyValue = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
    );
    const contentValue = fc.oneof(
        { weight: 8, arbitrary: fc.string({ unit: "grapheme", minLength: 0, maxLength: 80 }) },
        { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
        { weight: 1, arbitrary: fc.constantFrom("x".repeat(MAX_CONTENT_BYTES), "x".repeat(MAX_CONTENT_BYTES + 1), "é".repeat(MAX_CONTENT_BYTES / 2 + 1)) },
        { weight: 1, arbitrary: anyValue },
    );
    const attachmentValue = (user: string) =>
        fc.oneof(
            { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).map((name) => `private/${user}/${name}`) },
            fc.string({ maxLength: 30 }).map((name) => `private/${victim}/${name}`),
            fc.constantFrom(`private/${user}/../${victim}/f0`, `private/${user}`, "private/", `/private/${user}/a`, victimNotes[0].attachment!),
            fc.string({ unit: "binary", maxLength: 30 }),
            fc.constant(null),
            anyValue,
        );
    const spoofKey = fc.constantFrom("userId", "noteId", "version", "createdAt", "identityId", "__proto__", "constructor");
    const body = (user: string) =>
        fc.oneof(
            {
                weight: 6,
                arbitrary: fc
                    .tuple(
                        fc.record({ content: contentValue, attachment: attachmentValue(user) }, { requiredKeys: ["content"] }),
                        fc.dictionary(fc.oneof(spoofKey, fc.string({ maxLength: 8 })), anyValue, { minKeys: 1, maxKeys: 2 }),
                        fc.nat(3).map((n) => n === 0),
                    )
                    .map(([fields, extra, withExtra]) => JSON.stringify(withExtra ? { ...fields, ...extra } : fields)),
            },
            {
                weight: 1,
                arbitrary: fc
                    .record({ content: contentValue, attachment: attachmentValue(user) }, { requiredKeys: [] })
                    .map((fields) => JSON.stringify(fields)),
            },
            { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
            { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
            { weight: 1, arbitrary: fc.constantFrom("", "{", "{\"content\":", "null", "[]", "\"text\"", "{\"content\":\"a\"}garbage") },
        );
    const ifMatch = fc.option(fc.oneof(fc.constantFrom('"1"', '"2"', "*", 'W/"1"', '"0"', '"1", "2"'), fc.string({ maxLength: 12 })), { nil: undefined });
    const spoofHeaders = fc.dictionary(fc.constantFrom("x-user-id", "x-amz-cognito-identity-id", "x-forwarded-for", "cookie"), fc.constant(victim), { maxKeys: 2 });

    // -----------------------------------------------------------------------------------------
    // Properties

    /** One generated request: seed the caller, send it, check the answer and the stored data. */
    async function attack(user: string, input: Omit<HttpEventInput, "identityId">, allowed: number[]) {
        const deps = { client: db.client, tableName: db.tableName };
        const seeded = await createNote(deps, user, { content: "seed" });
        // Each run's caller is a fresh identity, so the seeded note is its whole partition.
        const before = [{ ...seeded, userId: user }];
        const event = httpEvent({ identityId: user, ...input, path: input.path.replace("{seed}", seeded.noteId) });
        if (input.pathParameters?.id === "{seed}") event.pathParameters = { id: seeded.noteId };
        const name = input.method === "POST" ? "create" : input.method === "PUT" ? "update" : input.method === "DELETE" ? "delete" : event.pathParameters ? "get" : "list";
        const res = await lambdas[name].handler(event);
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        assert.ok(allowed.includes(res.statusCode), `unexpected ${res.statusCode} ${res.body}`);
        if (res.body !== undefined) {
            assert.equal(res.headers["content-type"], "application/json");
            const json = JSON.parse(res.body);
            if (res.statusCode >= 400) assert.equal(typeof json.message, "string");
        }
        const after = await partition(user);
        if (res.statusCode >= 400) assert.deepEqual(after, before, "a rejected request changed the caller's data");
        for (const item of after) assertValidStoredNote(item, user);
        return { res, seeded, after };
    }

    it(`POST /notes with ${NUM_RUNS.createBodies} generated bodies: 201 or 400, never a 5xx or an invalid note`, async () => {
        await fc.assert(
            fc.asyncProperty(
                caller.chain((user) => fc.tuple(fc.constant(user), body(user), spoofHeaders)),
                async ([user, raw, headers]) => {
                    const { res } = await attack(user, { method: "POST", path: "/notes", body: raw, headers }, [201, 400]);
                    if (res.statusCode === 201) assert.equal(JSON.parse(raw).content, JSON.parse(res.body!).content);
                },
            ),
            { numRuns: NUM_RUNS.createBodies },
        );
    });

    it(`PUT /notes/{id} with ${NUM_RUNS.updateBodies} generated bodies and If-Match values: never a 5xx or an invalid note`, async () => {
        await fc.assert(
            fc.asyncProperty(
                caller.chain((user) => fc.tuple(fc.constant(user), body(user), ifMatch, spoofHeaders)),
                async ([user, raw, tag, headers]) => {
                    await attack(
                        user,
                        { method: "PUT", path: "/notes/{seed}", body: raw, headers: { ...headers, ...(tag === undefined ? {} : { "if-match": tag }) } },
                        [200, 400, 412],
                    );
                },
            ),
            { numRuns: NUM_RUNS.updateBodies },
        );
    });

    it(`GET, PUT and DELETE with ${NUM_RUNS.paths} generated path ids never reach another user's note`, async () => {
        const pathId = fc.oneof(
            fc.constant("{seed}"),
            fc.constantFrom(...victimNotes.map((n) => n.noteId)),
            fc.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/),
            fc.string({ maxLength: 40 }),
            fc.string({ unit: "binary", maxLength: 40 }),
            fc.constantFrom("", "..", "../notes", "%2e%2e", victim, `${victimNotes[0].noteId}/x`, "x".repeat(3000)),
        );
        await fc.assert(
            fc.asyncProperty(
                caller,
                fc.constantFrom("GET", "PUT", "DELETE" as const),
                pathId,
                ifMatch,
                async (user, method, id, tag) => {
                    const { res, seeded } = await attack(
                        user,
                        {
                            method: method as "GET" | "PUT" | "DELETE",
                            path: "/notes/x",
                            pathParameters: { id },
                            body: method === "PUT" ? { content: "changed" } : undefined,
                            headers: tag === undefined ? {} : { "if-match": tag },
                        },
                        [200, 204, 400, 404, 412],
                    );
                    if (res.statusCode < 300 && res.body !== undefined) {
                        assert.equal(JSON.parse(res.body).noteId, seeded.noteId, "only the caller's own note is ever returned");
                    }
                    if (id !== "{seed}" && res.statusCode < 300) assert.fail(`${method} of a foreign or bogus id succeeded: ${id}`);
                },
            ),
            { numRuns: NUM_RUNS.paths },
        );
    });

    it(`GET /notes with ${NUM_RUNS.queries} generated query strings lists only the caller's notes`, async () => {
        const queryValue = fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.integer({ min: -5, max: 200 }).map(String),
            fc.constantFrom(...victimNotes.map((n) => encodeCursor(n.noteId))),
            fc.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/).map(encodeCursor),
        );
        const query = fc.dictionary(fc.oneof(fc.constantFrom("limit", "cursor", "userId", "identityId"), fc.string({ maxLength: 6 })), queryValue, {
            maxKeys: 3,
        });
        await fc.assert(
            fc.asyncProperty(caller, query, async (user, params) => {
                const { res, after } = await attack(user, { method: "GET", path: "/notes", query: params }, [200, 400]);
                if (res.statusCode === 200) {
                    const own = new Set(after.map((item) => item.noteId));
                    const page = JSON.parse(res.body!) as { notes: Note[] };
                    for (const note of page.notes) assert.ok(own.has(note.noteId), `listed a note that is not the caller's: ${note.noteId}`);
                }
            }),
            { numRuns: NUM_RUNS.queries },
        );
    });
});
