import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ObjectStore, StoredObject } from "../../../../tools/local/s3/store";

async function bytes(store: ObjectStore, bucket: string, object: StoredObject): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of store.stream(bucket, object)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

describe("local S3 object store", () => {
    let dir: string;

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "s3store-"));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("keeps objects, their attributes and open uploads across a restart", async () => {
        const store = new ObjectStore(dir);
        store.createBucket("b");
        store.put("b", "a/../b", Buffer.from("literal key"), { contentType: "text/plain", metadata: { m: "1" } });
        store.put("b", "x".repeat(1000), Buffer.from("long segment"), { metadata: {} });
        const upload = store.createUpload("b", "big", { metadata: {} });
        store.putPart(upload, 3, Buffer.from("part"));

        const reopened = new ObjectStore(dir);
        reopened.createBucket("b");
        const object = reopened.head("b", "a/../b")!;
        assert.equal(await bytes(reopened, "b", object), "literal key");
        assert.equal(object.contentType, "text/plain");
        assert.deepEqual(object.metadata, { m: "1" });
        assert.equal(await bytes(reopened, "b", reopened.head("b", "x".repeat(1000))!), "long segment");
        const resumed = reopened.upload("b", "big", upload.uploadId)!;
        assert.deepEqual([...resumed.parts.keys()], [3]);
        assert.equal(reopened.upload("b", "other", upload.uploadId), undefined, "an upload id is bound to its key");
    });

    it("lists keys in UTF-8 byte order, as S3 does", () => {
        const store = new ObjectStore(dir);
        store.createBucket("b");
        for (const key of ["\u{1F600}", "\uFF5E", "a", "B", "a/b"]) store.put("b", key, Buffer.from(key), { metadata: {} });
        assert.deepEqual(store.keys("b"), ["B", "a", "a/b", "\uFF5E", "\u{1F600}"]);
    });

    it("replaces an object's bytes atomically and removes the old ones, and drops leftovers of a crash at start", async () => {
        const store = new ObjectStore(dir);
        store.createBucket("b");
        store.put("b", "k", Buffer.from("one"), { metadata: {} });
        store.put("b", "k", Buffer.from("two"), { metadata: {} });
        const bucketDir = path.join(dir, readdirSync(dir)[0]);
        assert.equal(readdirSync(path.join(bucketDir, "data")).length, 1);
        writeFileSync(path.join(bucketDir, "data", "orphan"), "from a crashed write");
        writeFileSync(path.join(bucketDir, "objects", "x.json.1234.tmp"), "{");
        const reopened = new ObjectStore(dir);
        reopened.createBucket("b");
        assert.equal(await bytes(reopened, "b", reopened.head("b", "k")!), "two");
        assert.equal(readdirSync(path.join(bucketDir, "data")).length, 1);
        assert.deepEqual(readdirSync(path.join(bucketDir, "objects")).filter((name) => name.endsWith(".tmp")), []);
    });

    it("joins parts in the order given, with S3's multipart ETag, and forgets the upload", async () => {
        const store = new ObjectStore(dir);
        store.createBucket("b");
        const upload = store.createUpload("b", "k", { metadata: {} });
        store.putPart(upload, 1, Buffer.from("hello "));
        store.putPart(upload, 2, Buffer.from("wrong"));
        store.putPart(upload, 2, Buffer.from("world"));
        const object = store.completeUpload(upload, [1, 2]);
        assert.equal(await bytes(store, "b", object), "hello world");
        assert.match(object.etag, /^"[0-9a-f]{32}-2"$/);
        assert.equal(store.upload("b", "k", upload.uploadId), undefined);
    });

    it("finishes serving an object that another request replaces or deletes meanwhile", async () => {
        const store = new ObjectStore(dir);
        store.createBucket("b");
        const first = store.put("b", "k", Buffer.alloc(256 * 1024, "a"), { metadata: {} });
        const reading = bytes(store, "b", first);
        store.put("b", "k", Buffer.from("replacement"), { metadata: {} });
        store.delete("b", "k");
        assert.equal(await reading, "a".repeat(256 * 1024));
    });
});
