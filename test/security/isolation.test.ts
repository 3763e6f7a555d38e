import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
    CopyObjectCommand,
    DeleteObjectCommand,
    DeleteObjectsCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    PutObjectCommand,
    S3Client,
} from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FlowUser, NotesClient } from "../../tools/client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";

/**
 * A second signed-in user attacks the first user's notes and files through the local cloud (the
 * real program's gateway, IAM decisions, functions and S3 front in a child process), and the
 * first user's data is compared before and after every attempt.
 */
describe("a second user attacking the first user's data through the local cloud", function () {
    this.timeout(60_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let client: NotesClient;
    let bucket: string;
    let alice: FlowUser;
    let bob: FlowUser;
    let aliceS3: S3Client;
    let bobS3: S3Client;
    let table: DynamoDBDocumentClient;
    /** Alice's note with an attachment, and a second note. */
    let noteWithFile: { noteId: string; etag: string };
    let plainNote: string;
    let aliceFile: string;
    let alicePhoto: string;
    let bobNote: string;

    /** Everything of Alice's: her table items as stored, her objects with their bytes. */
    async function aliceSnapshot(): Promise<{ items: unknown[]; files: Record<string, string> }> {
        const scan = await table.send(new ScanCommand({ TableName: cloud.outputs.tableName, ConsistentRead: true }));
        const items = (scan.Items ?? []).filter((item) => item.userId === alice.identityId).sort((a, b) => String(a.noteId).localeCompare(String(b.noteId)));
        const listed = await aliceS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${alice.identityId}/` }));
        const files: Record<string, string> = {};
        for (const { Key } of listed.Contents ?? []) {
            const object = await aliceS3.send(new GetObjectCommand({ Bucket: bucket, Key: Key! }));
            files[Key!] = await object.Body!.transformToString();
        }
        return { items, files };
    }

    /** Runs an attack and asserts it changed nothing of Alice's. */
    async function unchanged<T>(attack: () => Promise<T>): Promise<T> {
        const before = await aliceSnapshot();
        const result = await attack();
        assert.deepEqual(await aliceSnapshot(), before, "the first user's notes or files changed");
        return result;
    }

    const refusedWith = (status: number) => (error: any) => {
        assert.equal(error?.$metadata?.httpStatusCode, status, `expected HTTP ${status}, got ${error?.$metadata?.httpStatusCode} ${error?.name}`);
        return true;
    };

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-isolation-"));
        cloud = await startLocalCloudProcess(dataDir);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        bucket = cloud.outputs.bucketName;
        [alice, bob] = await Promise.all([client.newUser("alice"), client.newUser("bob")]);
        aliceS3 = client.s3(alice);
        bobS3 = client.s3(bob);
        // dynalite checks no signature; this client is the test's own view of the table.
        table = DynamoDBDocumentClient.from(
            new DynamoDBClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.dynamodb, credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
        );

        aliceFile = `private/${alice.identityId}/contract.pdf`;
        alicePhoto = `private/${alice.identityId}/photo.png`;
        await aliceS3.send(new PutObjectCommand({ Bucket: bucket, Key: aliceFile, Body: "alice's contract" }));
        await aliceS3.send(new PutObjectCommand({ Bucket: bucket, Key: alicePhoto, Body: "alice's photo" }));
        const first = await client.api(alice, "POST", "/notes", { content: "alice's secret", attachment: aliceFile });
        assert.equal(first.status, 201, first.text);
        noteWithFile = { noteId: first.json().noteId, etag: first.headers.get("etag") ?? '"1"' };
        const second = await client.api(alice, "POST", "/notes", { content: "alice's diary" });
        assert.equal(second.status, 201, second.text);
        plainNote = second.json().noteId;
        const own = await client.api(bob, "POST", "/notes", { content: "bob's note" });
        assert.equal(own.status, 201, own.text);
        bobNote = own.json().noteId;
    });

    after(async () => {
        table?.destroy();
        await cloud?.stop();
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("answers 404 to every route on the first user's note ids, with or without If-Match", async () => {
        const statuses = await unchanged(async () => {
            const out: Record<string, number> = {};
            for (const noteId of [noteWithFile.noteId, plainNote]) {
                const attempts: [string, string, unknown?, Record<string, string>?][] = [
                    ["GET", `/notes/${noteId}`],
                    ["PUT", `/notes/${noteId}`, { content: "bob was here" }],
                    ["PUT", `/notes/${noteId}`, { content: "bob was here" }, { "if-match": noteWithFile.etag }],
                    ["PUT", `/notes/${noteId}`, { attachment: null }],
                    ["DELETE", `/notes/${noteId}`, undefined, { "if-match": noteWithFile.etag }],
                    ["DELETE", `/notes/${noteId}`],
                ];
                for (const [method, path, body, headers] of attempts) {
                    const response = await client.api(bob, method, path, body, headers);
                    out[`${method} ${path.replace(noteId, "{id}")}${headers ? " If-Match" : ""}${body && (body as any).attachment === null ? " detach" : ""}`] = response.status;
                }
            }
            return out;
        });
        assert.deepEqual(statuses, {
            "GET /notes/{id}": 404,
            "PUT /notes/{id}": 404,
            "PUT /notes/{id} If-Match": 404,
            "PUT /notes/{id} detach": 404,
            "DELETE /notes/{id} If-Match": 404,
            "DELETE /notes/{id}": 404,
        });
    });

    it("refuses a spoofed userId in the body of a create or an update with 400", async () => {
        const [create, update] = await unchanged(() =>
            Promise.all([
                client.api(bob, "POST", "/notes", { content: "planted", userId: alice.identityId }),
                client.api(bob, "PUT", `/notes/${bobNote}`, { content: "moved", userId: alice.identityId }),
            ]),
        );
        assert.equal(create.status, 400, create.text);
        assert.match(create.json().message, /Unknown field\(s\): "userId"/);
        assert.equal(update.status, 400, update.text);
    });

    it("refuses a spoofed userId in the query string of a list with 400", async () => {
        const response = await unchanged(() => client.api(bob, "GET", `/notes?userId=${encodeURIComponent(alice.identityId)}`));
        assert.equal(response.status, 400, response.text);
        assert.doesNotMatch(response.text, /alice's/);
    });

    it("ignores a spoofed userId in the query string of a read and still answers 404", async () => {
        const response = await unchanged(() => client.api(bob, "GET", `/notes/${plainNote}?userId=${encodeURIComponent(alice.identityId)}`));
        assert.equal(response.status, 404, response.text);
    });

    it("ignores identity headers: the caller is only the signed identity", async () => {
        const spoof = {
            "x-user-id": alice.identityId,
            "x-amz-user-id": alice.identityId,
            "x-amzn-cognito-identity-id": alice.identityId,
            "x-cognito-identity-id": alice.identityId,
            "cognito-identity-id": alice.identityId,
        };
        const [read, list, created] = await unchanged(() =>
            Promise.all([
                client.api(bob, "GET", `/notes/${plainNote}`, undefined, spoof),
                client.api(bob, "GET", "/notes", undefined, spoof),
                client.api(bob, "POST", "/notes", { content: "planted via headers" }, spoof),
            ]),
        );
        assert.equal(read.status, 404, read.text);
        assert.equal(list.status, 200, list.text);
        assert.ok(list.json().notes.every((note: { content: string }) => !note.content.startsWith("alice's")), list.text);
        // The create is Bob's own note: it lands in Bob's partition, never in Alice's.
        assert.equal(created.status, 201, created.text);
        const mine = await client.api(bob, "GET", `/notes/${created.json().noteId}`);
        assert.equal(mine.status, 200);
    });

    it("lists only the caller's notes even from a cursor built from the first user's note id", async () => {
        const cursor = Buffer.from(noteWithFile.noteId, "utf8").toString("base64url");
        const response = await unchanged(() => client.api(bob, "GET", `/notes?cursor=${cursor}&limit=100`));
        assert.equal(response.status, 200, response.text);
        assert.ok(response.json().notes.every((note: { content: string }) => !note.content.startsWith("alice's")), response.text);
    });

    it("refuses attachment keys that point at the first user's files with 400", async () => {
        const keys = [aliceFile, `private/${bob.identityId}/../${alice.identityId}/contract.pdf`, `private/${alice.identityId}/`, "contract.pdf", `/${aliceFile}`];
        const statuses = await unchanged(async () => {
            const out: number[] = [];
            for (const attachment of keys) {
                out.push((await client.api(bob, "POST", "/notes", { content: "steal", attachment })).status);
                out.push((await client.api(bob, "PUT", `/notes/${bobNote}`, { attachment })).status);
            }
            return out;
        });
        assert.deepEqual(statuses, keys.flatMap(() => [400, 400]));
        // Bob's own note still has no attachment, so deleting it cannot remove Alice's file.
        const own = await client.api(bob, "GET", `/notes/${bobNote}`);
        assert.equal(own.json().attachment, undefined);
        const deleted = await unchanged(() => client.api(bob, "DELETE", `/notes/${bobNote}`));
        assert.equal(deleted.status, 204, deleted.text);
    });

    it("refuses with 403 every S3 request on the first user's keys", async () => {
        await unchanged(async () => {
            await assert.rejects(bobS3.send(new GetObjectCommand({ Bucket: bucket, Key: aliceFile })), refusedWith(403));
            await assert.rejects(bobS3.send(new HeadObjectCommand({ Bucket: bucket, Key: aliceFile })), refusedWith(403));
            await assert.rejects(bobS3.send(new PutObjectCommand({ Bucket: bucket, Key: aliceFile, Body: "overwritten" })), refusedWith(403));
            await assert.rejects(bobS3.send(new PutObjectCommand({ Bucket: bucket, Key: `private/${alice.identityId}/planted.txt`, Body: "planted" })), refusedWith(403));
            await assert.rejects(bobS3.send(new DeleteObjectCommand({ Bucket: bucket, Key: alicePhoto })), refusedWith(403));
            await assert.rejects(
                bobS3.send(new CopyObjectCommand({ Bucket: bucket, Key: `private/${bob.identityId}/copied.pdf`, CopySource: `${bucket}/${aliceFile}` })),
                refusedWith(403),
            );
            await assert.rejects(
                bobS3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `private/${bob.identityId}/mine.txt` }, { Key: alicePhoto }] } })),
                refusedWith(403),
            );
        });
    });

    it("refuses with 403 every listing outside the caller's prefix", async () => {
        await unchanged(async () => {
            for (const Prefix of [`private/${alice.identityId}/`, "private/", "", undefined, `private/${bob.identityId}`]) {
                await assert.rejects(bobS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix })), refusedWith(403), `listing with prefix ${JSON.stringify(Prefix)} was not refused`);
            }
        });
        const own = await bobS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${bob.identityId}/` }));
        assert.equal(own.$metadata.httpStatusCode, 200);
    });

    it("refuses with 403 keys at the bucket root, under a look-alike prefix and under private/", async () => {
        await unchanged(async () => {
            for (const Key of ["contract.pdf", "private/contract.pdf", `private/${bob.identityId}x/contract.pdf`, `public/${alice.identityId}/contract.pdf`]) {
                await assert.rejects(bobS3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: "x" })), refusedWith(403), `writing ${Key} was not refused`);
                await assert.rejects(bobS3.send(new GetObjectCommand({ Bucket: bucket, Key })), refusedWith(403), `reading ${Key} was not refused`);
            }
        });
    });

    it("never reaches the first user's files through a dot-segment key under the caller's prefix", async () => {
        // S3 keys are literal: `private/<bob>/../<alice>/contract.pdf` is a key of Bob's, never
        // Alice's file. Whatever the store does with such a key, Alice's data must not move.
        const sneaky = `private/${bob.identityId}/../${alice.identityId}/contract.pdf`;
        const copied = `private/${bob.identityId}/copied.pdf`;
        const status = (promise: Promise<unknown>) => promise.then(() => 200, (error) => error?.$metadata?.httpStatusCode as number);
        const outcome = await unchanged(async () => {
            const read = await bobS3.send(new GetObjectCommand({ Bucket: bucket, Key: sneaky })).then(
                async (object) => ({ status: 200, text: await object.Body!.transformToString() }),
                (error) => ({ status: error?.$metadata?.httpStatusCode as number, text: "" }),
            );
            const copy = await status(bobS3.send(new CopyObjectCommand({ Bucket: bucket, Key: copied, CopySource: `${bucket}/${sneaky}` })));
            const copiedText = await bobS3.send(new GetObjectCommand({ Bucket: bucket, Key: copied })).then(
                (object) => object.Body!.transformToString(),
                () => "",
            );
            const write = await status(bobS3.send(new PutObjectCommand({ Bucket: bucket, Key: sneaky, Body: "overwritten" })));
            const remove = await status(bobS3.send(new DeleteObjectCommand({ Bucket: bucket, Key: sneaky })));
            const removeMany = await status(bobS3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: sneaky }] } })));
            return { read, copy, copiedText, write, remove, removeMany };
        });
        assert.notEqual(outcome.read.text, "alice's contract", "GetObject on the dot-segment key served the first user's file");
        assert.notEqual(outcome.copiedText, "alice's contract", "CopyObject from the dot-segment key copied the first user's file");
        assert.ok([400, 403, 404].includes(outcome.read.status), `GetObject answered ${outcome.read.status}`);
        assert.ok([400, 403, 404].includes(outcome.copy), `CopyObject answered ${outcome.copy}`);
        for (const [name, code] of Object.entries({ write: outcome.write, remove: outcome.remove, removeMany: outcome.removeMany })) {
            assert.ok([200, 204, 400, 403].includes(code), `${name} answered ${code}`);
        }
    });
});
