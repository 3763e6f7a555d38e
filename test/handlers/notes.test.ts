import * as assert from "node:assert/strict";
import { createServer as createHttpServer, request as httpRequest, Server as HttpServer } from "node:http";
import { createServer, Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { DYNAMO_CLIENT_SETTINGS } from "../../handlers/dynamo";
import type { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { BadRequest, NotFound, PreconditionFailed, ServiceUnavailable } from "../../handlers/errors";
import { createLogger } from "../../handlers/log";
import { createNote, deleteNote, DeleteNoteDeps, getNote, LAMBDA_RESPONSE_LIMIT_BYTES, listNotes, NotesDeps, updateNote } from "../../handlers/notes";
import type { Note } from "../../handlers/types";
import { encodeCursor, MAX_CONTENT_BYTES } from "../../handlers/validation";
import { LOCAL_CREDENTIALS, LOCAL_REGION, LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { newIdentityId } from "../../tools/local/apigateway/event";

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

describe("notes domain against dynalite", () => {
    let db: LocalDynamo;
    let deps: NotesDeps;
    const silent = createLogger({}, () => {});

    before(async () => {
        db = await startDynalite();
        deps = { client: db.client, tableName: db.tableName, log: silent };
    });
    after(async () => {
        await db.stop();
    });

    async function stored(userId: string, noteId: string) {
        const { Item } = await db.client.send(
            new GetCommand({ TableName: db.tableName, Key: { userId, noteId }, ConsistentRead: true }),
        );
        return Item;
    }

    async function rejects(promise: Promise<unknown>, type: Function, message?: RegExp) {
        await assert.rejects(promise, (error: Error) => {
            assert.ok(error instanceof type, `expected ${type.name}, got ${error.name}: ${error.message}`);
            if (message) assert.match(error.message, message);
            return true;
        });
    }

    describe("create", () => {
        it("stores a note under the caller's partition with server-set id, timestamps and version 1", async () => {
            const user = newIdentityId();
            const now = new Date("2026-01-02T03:04:05.000Z");
            const note = await createNote({ ...deps, now: () => now }, user, {
                content: "buy milk",
                attachment: `private/${user}/list.png`,
            });
            assert.match(note.noteId, ULID);
            assert.deepEqual(note, {
                noteId: note.noteId,
                content: "buy milk",
                attachment: `private/${user}/list.png`,
                createdAt: now.toISOString(),
                updatedAt: now.toISOString(),
                version: 1,
            });
            assert.deepEqual(await stored(user, note.noteId), { ...note, userId: user });
        });

        it("answers 'created' when the SDK retried a create whose first attempt was stored", async () => {
            // What a request timeout under load does: the first PutItem lands, its answer is lost,
            // the SDK sends it again, and the retry fails the attribute_not_exists condition.
            const retrying = {
                send: async (command: unknown) => {
                    await db.client.send(command as PutCommand);
                    return db.client.send(command as PutCommand);
                },
            } as unknown as DynamoDBDocumentClient;
            const user = newIdentityId();
            const note = await createNote({ ...deps, client: retrying }, user, { content: "once" });
            assert.deepEqual(await stored(user, note.noteId), { ...note, userId: user });
            assert.equal((await listNotes(deps, user, {})).notes.length, 1);
        });

        it("issues note ids that sort in creation order", async () => {
            const user = newIdentityId();
            const ids: string[] = [];
            for (let i = 0; i < 20; i++) ids.push((await createNote(deps, user, { content: `n${i}` })).noteId);
            assert.deepEqual([...ids].sort(), ids);
        });

        it("accepts content of exactly 64 KiB of UTF-8", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "é".repeat(MAX_CONTENT_BYTES / 2) });
            assert.equal(Buffer.byteLength(note.content), MAX_CONTENT_BYTES);
        });

        const badBodies: Array<[string, (user: string) => unknown, RegExp]> = [
            ["a body without content", () => ({}), /content is required/],
            ["content that is not a string", () => ({ content: 42 }), /content must be a string/],
            ["empty content", () => ({ content: "" }), /content must not be empty/],
            ["content over 64 KiB", () => ({ content: "é".repeat(MAX_CONTENT_BYTES / 2) + "x" }), /at most 65536 bytes/],
            ["content with a lone surrogate", () => ({ content: "a\uD800b" }), /valid Unicode/],
            ["an unknown field", () => ({ content: "x", userId: "someone-else" }), /Unknown field\(s\): "userId"/],
            ["a body that is an array", () => [{ content: "x" }], /must be a JSON object/],
            ["a body that is null", () => null, /must be a JSON object/],
            ["an attachment that is not a string", () => ({ content: "x", attachment: 7 }), /attachment must be a string/],
            [
                "an attachment under another identity's prefix",
                () => ({ content: "x", attachment: `private/${newIdentityId()}/a.png` }),
                /under your own prefix/,
            ],
            ["an attachment at the bucket root", () => ({ content: "x", attachment: "a.png" }), /under your own prefix/],
            ["an attachment equal to the bare prefix", (u) => ({ content: "x", attachment: `private/${u}/` }), /under your own prefix/],
            ["an attachment that climbs out with ..", (u) => ({ content: "x", attachment: `private/${u}/../other/a` }), /"\.\."/],
            ["an attachment with a control character", (u) => ({ content: "x", attachment: `private/${u}/a\nb` }), /control/],
        ];
        for (const [what, body, message] of badBodies) {
            it(`rejects ${what} with BadRequest and stores nothing`, async () => {
                const user = newIdentityId();
                await rejects(createNote(deps, user, body(user)), BadRequest, message);
                assert.deepEqual((await listNotes(deps, user, {})).notes, []);
            });
        }
    });

    describe("get", () => {
        it("returns the caller's note", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "hello" });
            assert.deepEqual(await getNote(deps, user, note.noteId), note);
        });

        it("answers NotFound for an id that does not exist", async () => {
            await rejects(getNote(deps, newIdentityId(), "01ARZ3NDEKTSV4RRFFQ69G5FAV"), NotFound);
        });

        it("rejects an id that is not a ULID with BadRequest", async () => {
            await rejects(getNote(deps, newIdentityId(), "../etc/passwd"), BadRequest, /ULID/);
        });
    });

    describe("list", () => {
        let user: string;
        let created: Note[];
        let neighbour: string;
        let neighboursNote: Note;

        before(async () => {
            user = newIdentityId();
            neighbour = newIdentityId();
            neighboursNote = await createNote(deps, neighbour, { content: "older than every note of user" });
            created = [];
            for (let i = 0; i < 250; i++) created.push(await createNote(deps, user, { content: `note ${i}` }));
            await createNote(deps, newIdentityId(), { content: "another user's note" });
        });

        it("pages through 250 notes newest first, each exactly once, with the default page of 50", async () => {
            const seen: Note[] = [];
            const pageSizes: number[] = [];
            let cursor: string | undefined;
            do {
                const page = await listNotes(deps, user, cursor ? { cursor } : {});
                pageSizes.push(page.notes.length);
                seen.push(...page.notes);
                cursor = page.cursor;
            } while (cursor);
            assert.deepEqual(pageSizes, [50, 50, 50, 50, 50]);
            assert.deepEqual(
                seen.map((n) => n.noteId),
                created.map((n) => n.noteId).reverse(),
            );
        });

        it("honours limit up to 100 and omits the cursor on the last page", async () => {
            const sizes: number[] = [];
            let cursor: string | undefined;
            do {
                const page: { notes: Note[]; cursor?: string } = await listNotes(deps, user, { limit: "100", ...(cursor ? { cursor } : {}) });
                sizes.push(page.notes.length);
                cursor = page.cursor;
            } while (cursor);
            assert.deepEqual(sizes, [100, 100, 50]);
        });

        it("returns an empty page for a caller without notes", async () => {
            assert.deepEqual(await listNotes(deps, newIdentityId(), {}), { notes: [] });
        });

        for (const limit of ["0", "101", "-1", "1.5", "ten", "", "1,2"]) {
            it(`rejects limit=${JSON.stringify(limit)} with BadRequest`, async () => {
                await rejects(listNotes(deps, user, { limit }), BadRequest, /limit must be a whole number from 1 to 100/);
            });
        }

        for (const cursor of ["garbage!", "", "AAAA", encodeCursor("not-a-ulid"), `${encodeCursor(ulidOf(0))}=`]) {
            it(`rejects the garbled cursor ${JSON.stringify(cursor)} with BadRequest`, async () => {
                await rejects(listNotes(deps, user, { cursor }), BadRequest, /cursor is not valid/);
            });
        }

        it("rejects unknown query parameters such as userId", async () => {
            await rejects(listNotes(deps, user, { userId: user }), BadRequest, /Unknown field\(s\): "userId"/);
        });

        it("keeps a cursor within the caller's partition: another user's cursor only pages the caller's notes", async () => {
            const first = await listNotes(deps, user, { limit: "1" });
            assert.ok(first.cursor);
            const page = await listNotes(deps, neighbour, { cursor: first.cursor });
            assert.deepEqual(page.notes.map((n) => n.noteId), [neighboursNote.noteId]);
        });

        /** What Lambda serializes for a page: the handler's result, whose body is the page as a JSON string. */
        const lambdaResponseBytes = (page: unknown) =>
            Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(page) }), "utf8");

        async function pagesOf(owner: string): Promise<Array<{ notes: Note[]; cursor?: string }>> {
            const pages: Array<{ notes: Note[]; cursor?: string }> = [];
            let cursor: string | undefined;
            do {
                const page: { notes: Note[]; cursor?: string } = await listNotes(deps, owner, { limit: "100", ...(cursor ? { cursor } : {}) });
                pages.push(page);
                cursor = page.cursor;
            } while (cursor);
            return pages;
        }

        it("stops a page early rather than exceed Lambda's response limit, and no sooner than it must", async () => {
            const big = newIdentityId();
            for (let i = 0; i < 100; i++) await createNote(deps, big, { content: "x".repeat(MAX_CONTENT_BYTES) });
            const pages = await pagesOf(big);
            assert.equal(pages.length, 2);
            assert.ok(pages[0].notes.length >= 90 && pages[0].notes.length < 100, `page of ${pages[0].notes.length}`);
            assert.ok(lambdaResponseBytes(pages[0]) <= LAMBDA_RESPONSE_LIMIT_BYTES, `${lambdaResponseBytes(pages[0])} bytes`);
            assert.equal(pages[0].notes.length + pages[1].notes.length, 100);
        });

        it("counts a note as Lambda does: 64 KiB of quotation marks take 256 KiB of the response", async () => {
            // JSON escapes each `"` in the page body, and Lambda escapes the body string again.
            const quoted = newIdentityId();
            for (let i = 0; i < 45; i++) await createNote(deps, quoted, { content: '"'.repeat(MAX_CONTENT_BYTES) });
            const pages = await pagesOf(quoted);
            for (const page of pages) {
                assert.ok(lambdaResponseBytes(page) <= LAMBDA_RESPONSE_LIMIT_BYTES, `${page.notes.length} notes: ${lambdaResponseBytes(page)} bytes`);
            }
            // 6 MB holds 23 such notes: the first page is full, not cut short by a cautious guess.
            assert.equal(pages.length, 2);
            assert.ok(pages[0].notes.length >= 22, `first page of ${pages[0].notes.length}`);
            assert.equal(new Set(pages.flatMap((page) => page.notes.map((note) => note.noteId))).size, 45);
        });
    });

    describe("update", () => {
        it("changes content, bumps the version and updatedAt, and keeps createdAt", async () => {
            const user = newIdentityId();
            const note = await createNote({ ...deps, now: () => new Date("2026-01-01T00:00:00Z") }, user, { content: "a" });
            const later = new Date("2026-01-02T00:00:00Z");
            const updated = await updateNote({ ...deps, now: () => later, newWriteToken: () => "token-2" }, user, note.noteId, { content: "b" });
            assert.deepEqual(updated, { ...note, content: "b", version: 2, updatedAt: later.toISOString() });
            assert.deepEqual(await stored(user, note.noteId), { ...updated, userId: user, writeToken: "token-2" });
        });

        it("sets and removes the attachment", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a" });
            const withFile = await updateNote(deps, user, note.noteId, { attachment: `private/${user}/f.txt` });
            assert.equal(withFile.attachment, `private/${user}/f.txt`);
            assert.equal(withFile.content, "a");
            const without = await updateNote(deps, user, note.noteId, { attachment: null });
            assert.equal(without.attachment, undefined);
            assert.equal((await stored(user, note.noteId))?.attachment, undefined);
        });

        it("answers NotFound for a missing note and never creates one", async () => {
            const user = newIdentityId();
            const id = ulidOf(1);
            await rejects(updateNote(deps, user, id, { content: "x" }), NotFound);
            assert.equal(await stored(user, id), undefined);
        });

        it("rejects an empty body, unknown fields and foreign attachments without changing the note", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a" });
            await rejects(updateNote(deps, user, note.noteId, {}), BadRequest, /must set content or attachment/);
            await rejects(updateNote(deps, user, note.noteId, { content: "b", version: 9 }), BadRequest, /"version"/);
            await rejects(
                updateNote(deps, user, note.noteId, { attachment: `private/${newIdentityId()}/x` }),
                BadRequest,
                /own prefix/,
            );
            assert.deepEqual(await getNote(deps, user, note.noteId), note);
        });

        it("with If-Match writes only at the current version and otherwise answers PreconditionFailed", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "v1" });
            const v2 = await updateNote(deps, user, note.noteId, { content: "v2" }, '"1"');
            assert.equal(v2.version, 2);
            await rejects(updateNote(deps, user, note.noteId, { content: "stale" }, '"1"'), PreconditionFailed);
            await rejects(updateNote(deps, user, note.noteId, { content: "weak" }, 'W/"2"'), PreconditionFailed);
            assert.equal((await getNote(deps, user, note.noteId)).content, "v2");
            assert.equal((await updateNote(deps, user, note.noteId, { content: "v3" }, '"7", "2"')).version, 3);
            assert.equal((await updateNote(deps, user, note.noteId, { content: "v4" }, "*")).version, 4);
        });

        it("lets exactly one of two concurrent If-Match writers win", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "base" });
            const results = await Promise.allSettled(
                ["alice", "bob"].map((who) => updateNote(deps, user, note.noteId, { content: who }, '"1"')),
            );
            const won = results.filter((r) => r.status === "fulfilled");
            const lost = results.filter((r) => r.status === "rejected");
            assert.equal(won.length, 1);
            assert.ok(lost.length === 1 && (lost[0] as PromiseRejectedResult).reason instanceof PreconditionFailed);
            const final = await getNote(deps, user, note.noteId);
            assert.equal(final.content, (won[0] as PromiseFulfilledResult<Note>).value.content);
            assert.equal(final.version, 2);
        });

        it("without If-Match lets the last write win", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "base" });
            await updateNote(deps, user, note.noteId, { content: "first" });
            await updateNote(deps, user, note.noteId, { content: "second" });
            const final = await getNote(deps, user, note.noteId);
            assert.deepEqual([final.content, final.version], ["second", 3]);
        });

        describe("when DynamoDB applies an update but answers too late", () => {
            // Fault injection: a proxy in front of dynalite forwards every request, but holds the
            // answer to the first UpdateItem past the client's request timeout. The write has landed;
            // the real SDK client times out and sends the same UpdateItem again.
            let proxy: HttpServer;
            let client: DynamoDBDocumentClient;
            let stalled = 0;
            let updateItems = 0;

            before(async () => {
                proxy = createHttpServer((req, res) => {
                    const target = String(req.headers["x-amz-target"] ?? "");
                    const upstream = httpRequest({ host: "127.0.0.1", port: db.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
                        const chunks: Buffer[] = [];
                        reply.on("data", (chunk: Buffer) => chunks.push(chunk));
                        reply.on("end", () => {
                            const answer = () => {
                                if (res.destroyed) return;
                                res.writeHead(reply.statusCode ?? 500, reply.headers);
                                res.end(Buffer.concat(chunks));
                            };
                            if (target.endsWith(".UpdateItem") && updateItems++ === 0) {
                                stalled++;
                                setTimeout(answer, DYNAMO_CLIENT_SETTINGS.requestHandler.requestTimeout + 500);
                            } else answer();
                        });
                    });
                    req.pipe(upstream);
                });
                await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
                client = DynamoDBDocumentClient.from(
                    new DynamoDBClient({
                        ...DYNAMO_CLIENT_SETTINGS,
                        endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
                        region: LOCAL_REGION,
                        credentials: LOCAL_CREDENTIALS,
                    }),
                    { marshallOptions: { removeUndefinedValues: true } },
                );
            });
            beforeEach(() => {
                updateItems = 0;
                stalled = 0;
            });
            after(async () => {
                client.destroy();
                proxy.closeAllConnections();
                await new Promise((resolve) => proxy.close(resolve));
            });

            it("answers the updated note, not PreconditionFailed, when the SDK retried an If-Match update whose first attempt landed", async () => {
                const user = newIdentityId();
                const note = await createNote(deps, user, { content: "draft" });
                const lines: Array<Record<string, unknown>> = [];
                const updated = await updateNote({ ...deps, client, log: createLogger({}, (line) => lines.push(JSON.parse(line))) }, user, note.noteId, { content: "final" }, '"1"');
                assert.equal(stalled, 1, "the first UpdateItem was held back");
                assert.equal(updateItems, 2, "the SDK sent it again");
                assert.equal(updated.content, "final");
                assert.equal(updated.version, 2);
                assert.deepEqual(await getNote(deps, user, note.noteId), updated);
                assert.ok(lines.some((line) => line.level === "WARN" && /Update retried/.test(String(line.message))));
            });

            it("applies a retried update without If-Match once: the version goes up by one", async () => {
                const user = newIdentityId();
                const note = await createNote(deps, user, { content: "draft" });
                const updated = await updateNote({ ...deps, client }, user, note.noteId, { content: "final" });
                assert.equal(updateItems, 2, "the SDK sent it again");
                assert.equal(updated.version, 2);
                assert.equal((await getNote(deps, user, note.noteId)).version, 2);
            });

            it("still answers PreconditionFailed when another writer changed the note before the retry", async () => {
                const user = newIdentityId();
                const note = await createNote(deps, user, { content: "draft" });
                // Another client's update lands while the first answer is held back.
                const pending = updateNote({ ...deps, client }, user, note.noteId, { content: "mine" }, '"1"');
                await new Promise((resolve) => setTimeout(resolve, 200));
                await updateNote(deps, user, note.noteId, { content: "theirs" });
                await rejects(pending, PreconditionFailed);
                assert.equal((await getNote(deps, user, note.noteId)).content, "theirs");
            });
        });

        it("never shows clients the bookkeeping token it stores with an update", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a" });
            const updated = await updateNote({ ...deps, newWriteToken: () => "token-1" }, user, note.noteId, { content: "b" });
            assert.equal((await stored(user, note.noteId))?.writeToken, "token-1");
            assert.deepEqual(Object.keys(updated).sort(), ["content", "createdAt", "noteId", "updatedAt", "version"]);
            assert.deepEqual(await getNote(deps, user, note.noteId), updated);
        });

        it("answers NotFound, not PreconditionFailed, when If-Match names a note that does not exist", async () => {
            await rejects(updateNote(deps, newIdentityId(), ulidOf(2), { content: "x" }, '"1"'), NotFound);
        });

        it("rejects a malformed If-Match with BadRequest", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a" });
            await rejects(updateNote(deps, user, note.noteId, { content: "b" }, "1"), BadRequest, /If-Match/);
        });
    });

    describe("delete", () => {
        function fakeS3(failures = 0) {
            const calls: Array<DeleteObjectCommand["input"]> = [];
            let remaining = failures;
            return {
                calls,
                send: async (command: DeleteObjectCommand) => {
                    calls.push(command.input);
                    if (remaining-- > 0) throw Object.assign(new Error("S3 is down"), { name: "ServiceUnavailable" });
                    return {};
                },
            };
        }

        function deleteDeps(s3: ReturnType<typeof fakeS3>, lines: Array<Record<string, unknown>> = []): DeleteNoteDeps {
            const sleeps: number[] = [];
            return {
                ...deps,
                s3,
                bucketName: "uploads-abc1234",
                cleanupRetryDelaysMs: [1, 2],
                sleep: async (ms) => void sleeps.push(ms),
                log: createLogger({}, (line) => lines.push(JSON.parse(line))),
            };
        }

        /** A client that sends each delete twice, as the SDK does when a timed-out first attempt landed. */
        function retryingClient(): DynamoDBDocumentClient {
            return {
                send: async (command: DeleteCommand) => {
                    await db.client.send(command).catch(() => undefined);
                    try {
                        return await db.client.send(command);
                    } catch (error) {
                        throw Object.assign(error as Error, { $metadata: { ...(error as { $metadata?: object }).$metadata, attempts: 2 } });
                    }
                },
            } as unknown as DynamoDBDocumentClient;
        }

        it("answers 'deleted' when the SDK retried a delete whose first attempt removed the note", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "bye" });
            const lines: Array<Record<string, unknown>> = [];
            await deleteNote({ ...deleteDeps(fakeS3(), lines), client: retryingClient() }, user, note.noteId);
            assert.equal(await stored(user, note.noteId), undefined);
            assert.ok(lines.some((line) => line.level === "WARN" && /Delete retried/.test(String(line.message))));
        });

        it("still answers PreconditionFailed to a retried delete while the note exists", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "stays" });
            await rejects(deleteNote({ ...deleteDeps(fakeS3()), client: retryingClient() }, user, note.noteId, '"9"'), PreconditionFailed);
            assert.equal((await stored(user, note.noteId))?.content, "stays");
        });

        it("removes the note and then exactly its attachment object", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a", attachment: `private/${user}/photo.jpg` });
            const s3 = fakeS3();
            await deleteNote(deleteDeps(s3), user, note.noteId);
            assert.equal(await stored(user, note.noteId), undefined);
            assert.deepEqual(s3.calls, [{ Bucket: "uploads-abc1234", Key: `private/${user}/photo.jpg` }]);
        });

        it("makes no S3 call for a note without an attachment", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a" });
            const s3 = fakeS3();
            await deleteNote(deleteDeps(s3), user, note.noteId);
            assert.deepEqual(s3.calls, []);
        });

        it("retries a failing attachment delete and succeeds on a later attempt", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a", attachment: `private/${user}/a.bin` });
            const s3 = fakeS3(2);
            const lines: Array<Record<string, unknown>> = [];
            await deleteNote(deleteDeps(s3, lines), user, note.noteId);
            assert.equal(s3.calls.length, 3);
            assert.deepEqual(lines.map((l) => [l.level, l.message, l.attempt]), [
                ["WARN", "Attachment clean-up failed; retrying", 1],
                ["WARN", "Attachment clean-up failed; retrying", 2],
            ]);
        });

        it("still deletes the note when S3 keeps failing, and logs the orphaned key without note content", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "secret diary", attachment: `private/${user}/a.bin` });
            const s3 = fakeS3(Infinity);
            const lines: Array<Record<string, unknown>> = [];
            await deleteNote(deleteDeps(s3, lines), user, note.noteId);
            assert.equal(await stored(user, note.noteId), undefined);
            assert.equal(s3.calls.length, 3);
            const last = lines[lines.length - 1];
            assert.equal(last.level, "ERROR");
            assert.equal(last.message, "Attachment clean-up failed; object orphaned");
            assert.equal(last.key, `private/${user}/a.bin`);
            assert.equal(last.attempts, 3);
            assert.ok(!JSON.stringify(lines).includes("secret diary"));
        });

        it("never deletes an object outside the caller's prefix, even if one was stored", async () => {
            const user = newIdentityId();
            const victim = newIdentityId();
            const noteId = ulidOf(3);
            await db.client.send(
                new PutCommand({
                    TableName: db.tableName,
                    Item: { userId: user, noteId, content: "x", attachment: `private/${victim}/a`, createdAt: "t", updatedAt: "t", version: 1 },
                }),
            );
            const s3 = fakeS3();
            const lines: Array<Record<string, unknown>> = [];
            await deleteNote(deleteDeps(s3, lines), user, noteId);
            assert.deepEqual(s3.calls, []);
            assert.equal(lines[0].level, "ERROR");
        });

        it("answers NotFound for a missing note and touches no object", async () => {
            const s3 = fakeS3();
            await rejects(deleteNote(deleteDeps(s3), newIdentityId(), ulidOf(4)), NotFound);
            assert.deepEqual(s3.calls, []);
        });

        it("with a stale If-Match answers PreconditionFailed and keeps the note and its attachment", async () => {
            const user = newIdentityId();
            const note = await createNote(deps, user, { content: "a", attachment: `private/${user}/a` });
            await updateNote(deps, user, note.noteId, { content: "b" });
            const s3 = fakeS3();
            await rejects(deleteNote(deleteDeps(s3), user, note.noteId, '"1"'), PreconditionFailed);
            assert.equal((await getNote(deps, user, note.noteId)).content, "b");
            assert.deepEqual(s3.calls, []);
            await deleteNote(deleteDeps(s3), user, note.noteId, '"2"');
            assert.equal(await stored(user, note.noteId), undefined);
        });
    });

    describe("isolation between users", () => {
        it("user B cannot read, list, update or delete user A's notes, and A's note is unchanged", async () => {
            const a = newIdentityId();
            const b = newIdentityId();
            const note = await createNote(deps, a, { content: "A's note", attachment: `private/${a}/a.png` });
            const s3 = { calls: 0, send: async () => void s3.calls++ };
            await rejects(getNote(deps, b, note.noteId), NotFound);
            assert.deepEqual((await listNotes(deps, b, {})).notes, []);
            await rejects(updateNote(deps, b, note.noteId, { content: "pwned" }), NotFound);
            await rejects(updateNote(deps, b, note.noteId, { content: "pwned" }, '"1"'), NotFound);
            await rejects(deleteNote({ ...deps, s3, bucketName: "b" }, b, note.noteId), NotFound);
            await rejects(deleteNote({ ...deps, s3, bucketName: "b" }, b, note.noteId, "*"), NotFound);
            assert.equal(s3.calls, 0);
            assert.deepEqual(await getNote(deps, a, note.noteId), note);
            assert.equal(await stored(b, note.noteId), undefined);
        });
    });

    describe("when DynamoDB is unavailable", () => {
        it("answers ServiceUnavailable with a retry hint once the endpoint is gone, after the handlers' client's three attempts", async () => {
            const local = await startDynalite();
            const user = newIdentityId();
            const note = await createNote({ client: local.client, tableName: local.tableName }, user, { content: "a" });
            await local.stop();
            // Configured as the handlers configure theirs.
            const client = DynamoDBDocumentClient.from(new DynamoDBClient({ ...DYNAMO_CLIENT_SETTINGS, endpoint: local.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
            try {
                await assert.rejects(getNote({ client, tableName: local.tableName }, user, note.noteId), (error: Error) => {
                    assert.ok(error instanceof ServiceUnavailable, `${error.name}: ${error.message}`);
                    assert.ok(error.retryAfterSeconds >= 1);
                    assert.deepEqual(sdkFailure(error.cause), { name: "Error", code: "ECONNREFUSED", attempts: 3 });
                    return true;
                });
            } finally {
                client.destroy();
            }
        });

        it("answers ServiceUnavailable when DynamoDB accepts connections but never answers, after three timed-out attempts", async () => {
            const sockets = new Set<Socket>();
            const silent = createServer((socket) => void sockets.add(socket));
            await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
            const client = DynamoDBDocumentClient.from(
                new DynamoDBClient({
                    ...DYNAMO_CLIENT_SETTINGS,
                    endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
                    region: LOCAL_REGION,
                    credentials: LOCAL_CREDENTIALS,
                }),
            );
            try {
                await assert.rejects(getNote({ client, tableName: "notes" }, newIdentityId(), ulidOf(5)), (error: Error) => {
                    assert.ok(error instanceof ServiceUnavailable, `${error.name}: ${error.message}`);
                    // Each attempt timed out on its own connection (requestTimeout), and the client stopped at three.
                    assert.deepEqual(sdkFailure(error.cause), { name: "TimeoutError", code: "ETIMEDOUT", attempts: 3 });
                    return true;
                });
                assert.equal(sockets.size, 3, "one connection per attempt");
            } finally {
                client.destroy();
                for (const socket of sockets) socket.destroy();
                await new Promise((resolve) => silent.close(resolve));
            }
        });
    });
});

/** What an AWS SDK error says about the failure: its name, its code (a network error's) and the attempts the client made. */
function sdkFailure(error: unknown): { name?: string; code?: unknown; attempts?: number } {
    const { name, code, $metadata } = error as { name?: string; code?: unknown; $metadata?: { attempts?: number } };
    return { name, code, attempts: $metadata?.attempts };
}

/** A syntactically valid ULID that no test creates (fixed timestamp in 1970). */
function ulidOf(n: number): string {
    return `0000000000${String(n).padStart(16, "0")}`;
}
