import {
    CopyObjectCommand,
    DeleteObjectCommand,
    DeleteObjectsCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    ListObjectVersionsCommand,
    PutObjectCommand,
    S3Client,
} from "@aws-sdk/client-s3";
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { adminCredentials, AdminCredentials } from "../../../../tools/local/keys";
import { LocalRegistry } from "../../../../tools/local/registry";
import { LocalS3 } from "../../../../tools/local/s3/front";
import { CredentialStore, SessionCredentials } from "../../../../tools/local/sts/credentials";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const VERSIONED = "notes-uploads-versioned";
const PLAIN = "notes-uploads-plain";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/authenticated`;
const ALICE = "us-east-1:11111111-1111-4111-a111-111111111111";
const SUB = "${cognito-identity.amazonaws.com:sub}";
const USER_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [VERSIONED, PLAIN].map((b) => `arn:aws:s3:::${b}/private/${SUB}/*`) }],
});

describe("local S3: versioning as the stack declares it, and the admin key as an account administrator", () => {
    let dir: string;
    let s3: LocalS3;
    let store: CredentialStore;
    let registry: LocalRegistry;
    let admin: AdminCredentials;
    let alice: SessionCredentials;
    let endpoint: string;

    async function start(): Promise<void> {
        s3 = new LocalS3({ dataDir: dir, registry, store, admin, log: () => undefined });
        endpoint = `http://127.0.0.1:${await s3.listen(0)}`;
        await s3.createBucket(VERSIONED);
        await s3.createBucket(PLAIN);
        await s3.setVersioning(VERSIONED, "Enabled");
    }

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "s3-versions-"));
        registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("authenticated", { name: "authenticated", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set("authenticated", new Map([["own", USER_POLICY]]));
        store = new CredentialStore();
        admin = adminCredentials(dir);
        alice = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: ALICE });
        await start();
    });

    after(async () => {
        await s3.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
        new S3Client({ region: REGION, endpoint, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED", credentials });
    const asAdmin = () => client(admin);
    const asAlice = () => client({ accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey, sessionToken: alice.sessionToken });
    const read = async (bucket: string, key: string, VersionId?: string) => (await asAdmin().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId }))).Body!.transformToString();
    const dataFiles = (bucket: string) => readdirSync(path.join(dir, "s3store", createHash("sha256").update(bucket).digest("hex"), "data")).length;

    it("lets the admin key list and read the whole bucket, which a user's role may not", async () => {
        const key = `private/${ALICE}/note.txt`;
        await asAlice().send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: "alice's" }));
        await assert.rejects(asAlice().send(new ListObjectsV2Command({ Bucket: PLAIN })), (e: any) => e.name === "AccessDenied");
        const listed = await asAdmin().send(new ListObjectsV2Command({ Bucket: PLAIN }));
        assert.deepEqual(listed.Contents?.map((o) => o.Key), [key]);
        assert.equal(await read(PLAIN, key), "alice's");
        await asAdmin().send(new DeleteObjectCommand({ Bucket: PLAIN, Key: key }));
        assert.equal((await asAdmin().send(new ListObjectsV2Command({ Bucket: PLAIN }))).KeyCount, 0);
    });

    it("keeps one version per key in a bucket that was never versioned: no version headers, versionId null", async () => {
        const key = `private/${ALICE}/plain.txt`;
        const put = await asAlice().send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: "one" }));
        assert.equal(put.VersionId, undefined);
        await asAlice().send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: "two" }));
        assert.equal(await read(PLAIN, key, "null"), "two");
        const versions = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: PLAIN, Prefix: key }));
        assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [["null", true]]);
        assert.equal(dataFiles(PLAIN), 1, "an overwrite leaves no old bytes behind");
    });

    it("adds a version per write and a delete marker per delete; reads, lists and copies versions", async () => {
        const key = `private/${ALICE}/doc.txt`;
        const v1 = (await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "first" }))).VersionId!;
        const v2 = (await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "second" }))).VersionId!;
        assert.match(v1, /^[A-Za-z0-9_-]{32}$/);
        assert.notEqual(v1, v2);
        assert.equal(await read(VERSIONED, key), "second");
        assert.equal(await read(VERSIONED, key, v1), "first");
        assert.equal((await asAdmin().send(new HeadObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: v1 }))).ContentLength, 5);

        const deleted = await asAlice().send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key }));
        assert.equal(deleted.DeleteMarker, true);
        const marker = deleted.VersionId!;
        await assert.rejects(asAdmin().send(new GetObjectCommand({ Bucket: VERSIONED, Key: key })), (e: any) => e.name === "NoSuchKey" && e.$response?.headers?.["x-amz-delete-marker"] === "true");
        await assert.rejects(asAdmin().send(new GetObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: marker })), (e: any) => e.$metadata.httpStatusCode === 405);
        await assert.rejects(asAdmin().send(new GetObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: "x".repeat(32) })), (e: any) => e.name === "NoSuchVersion");
        assert.equal((await asAdmin().send(new ListObjectsV2Command({ Bucket: VERSIONED, Prefix: key }))).KeyCount, 0, "a deleted key is not listed");

        const listed = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: key }));
        assert.deepEqual(listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [[v2, false, 6], [v1, false, 5]]);
        assert.deepEqual(listed.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]), [[marker, true]]);

        // "Deleted" is recoverable: copying the old version back over the marker.
        const restored = await asAdmin().send(new CopyObjectCommand({ Bucket: VERSIONED, Key: key, CopySource: `${VERSIONED}/${encodeURIComponent(key)}?versionId=${v1}` }));
        assert.equal(restored.CopySourceVersionId, v1);
        assert.equal(await read(VERSIONED, key), "first");
        await assert.rejects(asAdmin().send(new CopyObjectCommand({ Bucket: VERSIONED, Key: key, CopySource: `${VERSIONED}/${encodeURIComponent(key)}?versionId=${marker}` })), (e: any) => e.name === "InvalidRequest");
    });

    it("erases every version and delete marker with version ids (DeleteObjects, DeleteObject), bytes included", async () => {
        const key = `private/${ALICE}/erase.txt`;
        const before = dataFiles(VERSIONED);
        for (const body of ["a", "b", "c"]) await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: body }));
        await asAlice().send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key }));
        const listed = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: key }));
        const all = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
        assert.equal(all.length, 4);
        // A user's role without s3:DeleteObjectVersion cannot erase history.
        await assert.rejects(asAlice().send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: all[0].VersionId })), (e: any) => e.name === "AccessDenied");
        const last = all.shift()!;
        const result = await asAdmin().send(new DeleteObjectsCommand({ Bucket: VERSIONED, Delete: { Objects: all } }));
        assert.deepEqual(result.Deleted?.map((d) => d.VersionId).sort(), all.map((v) => v.VersionId).sort());
        assert.equal(result.Deleted?.filter((d) => d.DeleteMarker).length, 1, "the delete marker is reported as one");
        await asAdmin().send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: last.VersionId }));
        const after = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: key }));
        assert.deepEqual([after.Versions ?? [], after.DeleteMarkers ?? []], [[], []]);
        assert.equal(dataFiles(VERSIONED), before, "no byte of the erased versions is left on disk");
    });

    it("pages ListObjectVersions with key and version-id markers", async () => {
        const prefix = `private/${ALICE}/pages/`;
        for (const name of ["a", "b"]) for (const body of ["1", "2", "3"]) await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: `${prefix}${name}`, Body: body }));
        const seen: string[] = [];
        let KeyMarker: string | undefined;
        let VersionIdMarker: string | undefined;
        for (;;) {
            const page = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: prefix, MaxKeys: 4, KeyMarker, VersionIdMarker }));
            seen.push(...(page.Versions ?? []).map((v) => `${v.Key!.slice(prefix.length)}:${v.IsLatest}`));
            if (!page.IsTruncated) break;
            KeyMarker = page.NextKeyMarker;
            VersionIdMarker = page.NextVersionIdMarker;
        }
        assert.deepEqual(seen, ["a:true", "a:false", "a:false", "b:true", "b:false", "b:false"]);
    });

    it("lists every version while deleting page by page, as an erasure does", async () => {
        const prefix = `private/${ALICE}/erase-pages/`;
        for (const name of ["a", "b", "c"]) for (const body of ["1", "2", "3", "4"]) await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: `${prefix}${name}`, Body: body }));
        let erased = 0;
        let KeyMarker: string | undefined;
        let VersionIdMarker: string | undefined;
        for (;;) {
            const page = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: prefix, MaxKeys: 5, KeyMarker, VersionIdMarker }));
            const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
            if (objects.length) await asAdmin().send(new DeleteObjectsCommand({ Bucket: VERSIONED, Delete: { Objects: objects, Quiet: true } }));
            erased += objects.length;
            if (!page.IsTruncated) break;
            KeyMarker = page.NextKeyMarker;
            VersionIdMarker = page.NextVersionIdMarker;
        }
        assert.equal(erased, 12);
        const left = await asAdmin().send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: prefix }));
        assert.deepEqual([left.Versions ?? [], left.DeleteMarkers ?? []], [[], []]);
    });

    it("keeps versions and delete markers across a restart", async () => {
        const key = `private/${ALICE}/kept.txt`;
        const v1 = (await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "kept" }))).VersionId!;
        await asAlice().send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: key }));
        await s3.close();
        await start();
        assert.equal(await read(VERSIONED, key, v1), "kept");
        await assert.rejects(asAdmin().send(new GetObjectCommand({ Bucket: VERSIONED, Key: key })), (e: any) => e.name === "NoSuchKey");
        const put = await asAlice().send(new PutObjectCommand({ Bucket: VERSIONED, Key: key, Body: "again" }));
        assert.notEqual(put.VersionId, undefined, "the bucket is still versioned");
    });
});
