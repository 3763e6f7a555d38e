import { strict as assert } from "node:assert";
import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { eraseAccount, ErasureDeps, ErasureReport } from "../../handlers/erasure";
import { createLogger } from "../../handlers/log";
import { LocalDynamo, startDynalite } from "../../tools/local/dynamodb/dynalite";
import { countingClient, CountingClient, FakeDirectory, FakeVersionStore } from "../support/erasure-fakes";

const ALICE = { identityId: "us-east-1:11111111-1111-4111-8111-111111111111", sub: "aaaaaaaa-1111-4111-8111-111111111111" };
const BOB = { identityId: "us-east-1:22222222-2222-4222-8222-222222222222", sub: "bbbbbbbb-2222-4222-8222-222222222222" };
const BUCKET = "notes-uploads-test";
const silent = createLogger({}, () => undefined);

describe("account erasure (handlers/erasure.ts against dynalite)", function () {
    this.timeout(60_000);
    let db: LocalDynamo;
    let dynamo: CountingClient;
    let s3: FakeVersionStore;
    let directory: FakeDirectory;
    let loaded: { objects: number; directory: number };
    let sleeps: number[];

    before(async () => {
        db = await startDynalite();
    });
    after(async () => {
        await db?.stop();
    });

    async function seedNotes(userId: string, count: number): Promise<void> {
        const items = Array.from({ length: count }, (_, i) => ({ userId, noteId: `01JD${String(i).padStart(22, "0")}`, content: `note ${i}`, version: 1 }));
        for (let i = 0; i < items.length; i += 25) {
            await db.client.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
        }
    }

    async function notesOf(userId: string): Promise<number> {
        let count = 0;
        let startKey: Record<string, unknown> | undefined;
        do {
            const page = await db.client.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": userId }, Select: "COUNT", ExclusiveStartKey: startKey }));
            count += page.Count ?? 0;
            startKey = page.LastEvaluatedKey;
        } while (startKey);
        return count;
    }

    beforeEach(async () => {
        // A fresh partition per user and test: clear what an earlier test left.
        for (const user of [ALICE, BOB]) {
            const { Items = [] } = await db.client.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": user.identityId } }));
            for (let i = 0; i < Items.length; i += 25) {
                await db.client.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: Items.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: { userId: item.userId, noteId: item.noteId } } })) } }));
            }
        }
        dynamo = countingClient(db.client);
        s3 = new FakeVersionStore();
        directory = new FakeDirectory();
        for (const user of [ALICE, BOB]) {
            directory.identities.add(user.identityId);
            directory.users.add(user.sub);
        }
        loaded = { objects: 0, directory: 0 };
        sleeps = [];
    });

    function deps(overrides: Partial<ErasureDeps> = {}): ErasureDeps {
        return {
            client: dynamo.client,
            tableName: db.tableName,
            bucketName: BUCKET,
            objects: () => {
                loaded.objects++;
                return s3;
            },
            directory: () => {
                loaded.directory++;
                return directory;
            },
            log: silent,
            deadline: Number.MAX_SAFE_INTEGER,
            sleep: async (ms) => {
                sleeps.push(ms);
            },
            random: () => 0.999,
            ...overrides,
        };
    }

    /** Calls until done, as a client would; returns every report. */
    async function eraseUntilDone(user: typeof ALICE, make: () => ErasureDeps = () => deps(), maxCalls = 100): Promise<ErasureReport[]> {
        const reports: ErasureReport[] = [];
        for (let call = 0; call < maxCalls; call++) {
            const report = await eraseAccount(make(), user);
            reports.push(report);
            if (report.done) return reports;
        }
        assert.fail(`not done after ${maxCalls} calls: ${JSON.stringify(reports[reports.length - 1])}`);
    }

    it("erases every note, version and delete marker of the caller, then its identity, then its user, and nothing of another user", async () => {
        await seedNotes(ALICE.identityId, 260);
        await seedNotes(BOB.identityId, 7);
        s3.put(`private/${ALICE.identityId}/photo.png`, 3, true);
        s3.put(`private/${ALICE.identityId}/2026/notes.pdf`);
        s3.put(`private/${ALICE.identityId}x/look-alike.png`);
        s3.put(`private/${BOB.identityId}/photo.png`, 2);

        const report = await eraseAccount(deps(), ALICE);

        assert.deepEqual(report, { done: true, remaining: [], deleted: { notes: 260, files: 5 } });
        assert.equal(await notesOf(ALICE.identityId), 0);
        assert.equal(await notesOf(BOB.identityId), 7);
        assert.deepEqual(s3.keysUnder(`private/${ALICE.identityId}/`), []);
        assert.equal(s3.keysUnder(`private/${ALICE.identityId}x/`).length, 1);
        assert.equal(s3.keysUnder(`private/${BOB.identityId}/`).length, 2);
        assert.deepEqual(directory.calls, [`identity:${ALICE.identityId}`, `user:${ALICE.sub}`]);
        assert.ok(directory.identities.has(BOB.identityId) && directory.users.has(BOB.sub));
        for (const asked of s3.asked) {
            assert.equal(asked.bucket, BUCKET);
            if (asked.prefix !== undefined) assert.equal(asked.prefix, `private/${ALICE.identityId}/`);
            for (const key of asked.keys) assert.ok(key.startsWith(`private/${ALICE.identityId}/`), key);
        }
    });

    it("uses the fewest requests: a Query page, then BatchWriteItem of 25; ListObjectVersions and DeleteObjects of 1,000", async () => {
        await seedNotes(ALICE.identityId, 1000);
        for (let i = 0; i < 2500; i++) s3.put(`private/${ALICE.identityId}/f${String(i).padStart(5, "0")}`);

        const report = await eraseAccount(deps(), ALICE);

        assert.equal(report.done, true);
        assert.equal(dynamo.counts.BatchWriteCommand, 40);
        assert.equal(dynamo.counts.QueryCommand, 1);
        assert.deepEqual(s3.calls, { listObjectVersions: 3, deleteObjects: 3 });
    });

    it("retries unprocessed items with growing, capped back-off and counts each attempt", async () => {
        await seedNotes(ALICE.identityId, 25);
        dynamo.unprocessedNext.push(10, 4, 1);

        const report = await eraseAccount(deps(), ALICE);

        assert.equal(report.done, true);
        assert.equal(dynamo.counts.BatchWriteCommand, 4);
        assert.equal(await notesOf(ALICE.identityId), 0);
        // Full jitter with random() just under 1: 50 ms doubled per attempt.
        assert.deepEqual(sleeps, [99, 199, 399]);
    });

    it("leaves items DynamoDB keeps refusing to the next call after six attempts, which finishes them", async () => {
        await seedNotes(ALICE.identityId, 25);
        dynamo.unprocessedNext.push(5, 5, 5, 5, 5, 5);

        const first = await eraseAccount(deps(), ALICE);
        assert.deepEqual(first, { done: false, remaining: ["notes", "files", "identity", "user"], deleted: { notes: 20, files: 0 } });
        assert.equal(dynamo.counts.BatchWriteCommand, 6);
        assert.equal(sleeps.length, 5);
        assert.ok(sleeps.every((ms) => ms <= 1000));
        assert.equal(loaded.objects, 0, "S3 is not loaded while notes remain");
        assert.equal(loaded.directory, 0, "Cognito is not loaded while data remains");

        const second = await eraseAccount(deps(), ALICE);
        assert.deepEqual(second, { done: true, remaining: [], deleted: { notes: 5, files: 0 } });
    });

    it("retries the keys DeleteObjects reports as failed, and leaves them to the next call when they keep failing", async () => {
        s3.put(`private/${ALICE.identityId}/a.png`);
        s3.put(`private/${ALICE.identityId}/b.png`);
        s3.failNext.push([`private/${ALICE.identityId}/a.png`]);
        const report = await eraseAccount(deps(), ALICE);
        assert.equal(report.done, true);
        assert.equal(s3.calls.deleteObjects, 2);

        s3.put(`private/${ALICE.identityId}/c.png`);
        for (let i = 0; i < 6; i++) s3.failNext.push([`private/${ALICE.identityId}/c.png`]);
        const stuck = await eraseAccount(deps(), ALICE);
        assert.deepEqual(stuck.remaining, ["files", "identity", "user"]);
        assert.equal(s3.calls.deleteObjects, 2 + 6);
        assert.equal((await eraseAccount(deps(), ALICE)).done, true);
    });

    it("stops starting work when the time budget is spent, answers what remains, and resumes from what is left", async () => {
        await seedNotes(ALICE.identityId, 300);
        s3.put(`private/${ALICE.identityId}/photo.png`, 2);
        // A clock that advances one tick per reading: the budget allows a few batches per call.
        let tick = 0;
        const make = () => {
            const start = tick;
            return deps({ now: () => tick++, deadline: start + 6 });
        };
        const reports = await eraseUntilDone(ALICE, make);

        assert.ok(reports.length > 2, `${reports.length} calls`);
        assert.deepEqual(reports[0].remaining, ["notes", "files", "identity", "user"]);
        assert.ok(reports.slice(0, -1).every((r) => !r.done && r.remaining.length > 0));
        assert.equal(reports.reduce((sum, r) => sum + r.deleted.notes, 0), 300);
        assert.equal(reports.reduce((sum, r) => sum + r.deleted.files, 0), 2);
        assert.equal(await notesOf(ALICE.identityId), 0);
        // A call that ran out of time after the identity repeats it (already gone) before the user.
        assert.equal(directory.calls[directory.calls.length - 1], `user:${ALICE.sub}`);
        assert.ok(directory.calls.slice(0, -1).every((call) => call === `identity:${ALICE.identityId}`), directory.calls.join());
    });

    it("never starts a request after the deadline", async () => {
        await seedNotes(ALICE.identityId, 30);
        const report = await eraseAccount(deps({ deadline: 0 }), ALICE);
        assert.deepEqual(report, { done: false, remaining: ["notes", "files", "identity", "user"], deleted: { notes: 0, files: 0 } });
        assert.deepEqual(dynamo.counts, {});
        assert.equal(await notesOf(ALICE.identityId), 30);
    });

    it("finishes after a failure at any step: the identity deletion fails, then the user deletion fails, then it completes", async () => {
        await seedNotes(ALICE.identityId, 3);
        s3.put(`private/${ALICE.identityId}/photo.png`);
        directory.failures.push(Object.assign(new Error("boom"), { name: "InternalErrorException" }));
        await assert.rejects(eraseAccount(deps(), ALICE), /boom/);
        assert.equal(await notesOf(ALICE.identityId), 0, "data goes first");
        assert.ok(directory.users.has(ALICE.sub), "the user goes last");

        directory.failures.push(undefined, Object.assign(new Error("throttled"), { name: "TooManyRequestsException", $metadata: { httpStatusCode: 429 } }));
        await assert.rejects(eraseAccount(deps(), ALICE), (error: Error) => error.name === "ServiceUnavailable");
        assert.ok(!directory.identities.has(ALICE.identityId));
        assert.ok(directory.users.has(ALICE.sub));

        const done = await eraseAccount(deps(), ALICE);
        assert.equal(done.done, true);
        assert.ok(!directory.users.has(ALICE.sub));
    });

    it("answers done again when called after everything is gone", async () => {
        await seedNotes(ALICE.identityId, 2);
        assert.equal((await eraseAccount(deps(), ALICE)).done, true);
        const again = await eraseAccount(deps(), ALICE);
        assert.deepEqual(again, { done: true, remaining: [], deleted: { notes: 0, files: 0 } });
    });

    it("keeps one DeleteObjects in flight and lists a page only when its delete can start", async () => {
        for (let i = 0; i < 7500; i++) s3.put(`private/${ALICE.identityId}/f${String(i).padStart(5, "0")}`);
        let inFlight = 0;
        let most = 0;
        const slow: ErasureDeps["objects"] = () => ({
            listObjectVersions: (input) => s3.listObjectVersions(input),
            deleteObjects: async (input) => {
                most = Math.max(most, ++inFlight);
                await new Promise((resolve) => setTimeout(resolve, 20));
                try {
                    return await s3.deleteObjects(input);
                } finally {
                    inFlight--;
                }
            },
        });
        assert.equal((await eraseAccount(deps({ objects: slow }), ALICE)).done, true);
        assert.equal(most, 1);
        assert.deepEqual(s3.calls, { listObjectVersions: 8, deleteObjects: 8 });
        assert.deepEqual(s3.keysUnder(`private/${ALICE.identityId}/`), []);
    });

    it("keeps at most eight BatchWriteItem requests in flight", async () => {
        await seedNotes(ALICE.identityId, 500);
        let inFlight = 0;
        let most = 0;
        const client = {
            send: async (command: { constructor: { name: string } }) => {
                if (command.constructor.name !== "BatchWriteCommand") return dynamo.client.send(command as never);
                most = Math.max(most, ++inFlight);
                try {
                    return await dynamo.client.send(command as never);
                } finally {
                    inFlight--;
                }
            },
        } as unknown as ErasureDeps["client"];
        assert.equal((await eraseAccount(deps({ client }), ALICE)).done, true);
        assert.equal(most, 8);
    });
});
