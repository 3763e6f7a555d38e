import { Sha256 } from "@aws-crypto/sha256-js";
import {
    AbortMultipartUploadCommand,
    CompleteMultipartUploadCommand,
    CopyObjectCommand,
    CreateMultipartUploadCommand,
    GetBucketLocationCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    ListPartsCommand,
    paginateListObjectsV2,
    PutObjectCommand,
    S3Client,
    UploadPartCommand,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import { strict as assert } from "node:assert";
import { Agent, request as httpRequest } from "node:http";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CredentialStore, SessionCredentials } from "../../../../tools/local/sts/credentials";
import { LocalRegistry } from "../../../../tools/local/registry";
import { LocalS3 } from "../../../../tools/local/s3/front";
import { parseS3Request, s3Authorizations } from "../../../../tools/local/s3/request";
import type { ReceivedRequest } from "../../../../tools/local/server";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const BUCKET = "notes-uploads-abc1234";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/authenticated`;
const ALICE = "us-east-1:11111111-1111-4111-a111-111111111111";
const BOB = "us-east-1:22222222-2222-4222-a222-222222222222";
const ORIGIN = "http://localhost:5173";

const SUB = "${cognito-identity.amazonaws.com:sub}";
const ROLE_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: `arn:aws:s3:::${BUCKET}/private/${SUB}/*` },
        { Effect: "Allow", Action: "s3:GetBucketLocation", Resource: `arn:aws:s3:::${BUCKET}` },
        { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${BUCKET}`, Condition: { StringLike: { "s3:prefix": [`private/${SUB}/`, `private/${SUB}/*`] } } },
    ],
});
const TLS_ONLY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
});

function received(method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): ReceivedRequest {
    return { method, path, query, params: Object.entries(query), headers: { host: "127.0.0.1:4566", ...headers }, body: Buffer.alloc(0) };
}

/** Sends a request over HTTP with exactly these headers (Host included), as a TLS terminator forwards one. */
function rawRequest(port: number, method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    return new Promise((resolve, reject) => {
        const request = httpRequest({ host: "127.0.0.1", port, method, path: pathAndQuery, headers, setHost: false }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk) => chunks.push(chunk));
            response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
        });
        request.on("error", reject);
        request.end(body);
    });
}

describe("local S3 front", () => {
    let dir: string;
    let s3: LocalS3;
    let endpoint: string;
    let port: number;
    let store: CredentialStore;
    let alice: SessionCredentials;
    let bob: SessionCredentials;

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "s3front-"));
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("authenticated", { name: "authenticated", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set("authenticated", new Map([["own-files", ROLE_POLICY]]));
        registry.bucketPolicies.set(BUCKET, TLS_ONLY);
        store = new CredentialStore();
        s3 = new LocalS3({ dataDir: dir, registry, store, log: () => undefined });
        port = await s3.listen(0);
        endpoint = `http://127.0.0.1:${port}`;
        await s3.createBucket(BUCKET);
        await s3.putCors(BUCKET, [{ allowedOrigins: [ORIGIN], allowedMethods: ["GET", "PUT", "HEAD"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 300 }]);
        alice = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: ALICE });
        bob = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: BOB });
    });

    after(async () => {
        await s3.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const keys = (session: SessionCredentials) => ({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken });
    const client = (session: SessionCredentials, secretAccessKey = session.secretAccessKey) =>
        new S3Client({
            region: REGION,
            endpoint,
            forcePathStyle: true,
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
            credentials: { ...keys(session), secretAccessKey },
        });
    const status = (error: any) => error.$metadata?.httpStatusCode;
    const signer = (session: SessionCredentials) => new SignatureV4({ credentials: keys(session), region: REGION, service: "s3", sha256: Sha256, uriEscapePath: false });
    /** A presigned URL as @aws-sdk/s3-request-presigner and Amplify's getUrl build it (UNSIGNED-PAYLOAD, query auth). */
    const presign = async (session: SessionCredentials, method: string, key: string, query: Record<string, string> = {}, secretAccessKey = session.secretAccessKey) => {
        const url = new URL(`${endpoint}/${BUCKET}/${key}`);
        const presigner = new SignatureV4({ credentials: { ...keys(session), secretAccessKey }, region: REGION, service: "s3", sha256: Sha256, uriEscapePath: false });
        const request = await presigner.presign(
            { method, protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
            { expiresIn: 300 },
        );
        return `${url.origin}${url.pathname}?${new URLSearchParams(request.query as Record<string, string>).toString().replace(/\+/g, "%20")}`;
    };

    it("stores and serves an object under the caller's own prefix", async () => {
        const key = `private/${ALICE}/a.txt`;
        await client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "hello" }));
        const object = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(await object.Body!.transformToString(), "hello");
    });

    it("refuses another identity's prefix with 403 AccessDenied and stores nothing there", async () => {
        const key = `private/${BOB}/planted.txt`;
        await assert.rejects(client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" })), (e: any) => e.name === "AccessDenied" && status(e) === 403);
        await assert.rejects(client(bob).send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), (e: any) => e.name === "NoSuchKey");
    });

    it("refuses keys and prefixes with dot segments after decoding", async () => {
        const escape = `private/${BOB}/../${ALICE}/a.txt`;
        const bobClient = client(bob);
        await assert.rejects(bobClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: escape })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: escape, Body: "overwrite" })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${BOB}/../${ALICE}/` })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${BOB}/./x` })), (e: any) => status(e) === 400);
        // Percent-encoded dots are dots once decoded.
        const encoded = await rawRequest(port, "GET", `/${BUCKET}/private/${BOB}/%2e%2e/${ALICE}/a.txt`, { host: `127.0.0.1:${port}` });
        assert.equal(encoded.status, 400);
        assert.match(encoded.text, /<Code>InvalidArgument<\/Code>/);
        const intact = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/a.txt` }));
        assert.equal(await intact.Body!.transformToString(), "hello");
    });

    it("stores a key of 1,024 bytes with a 500-byte segment, and refuses 1,025 bytes with KeyTooLongError", async () => {
        const prefix = `private/${ALICE}/`;
        const longest = `${prefix}${"s".repeat(500)}/${"x".repeat(1024 - prefix.length - 501)}`;
        assert.equal(Buffer.byteLength(longest), 1024);
        await client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: longest, Body: "long" }));
        const back = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: longest }));
        assert.equal(await back.Body!.transformToString(), "long");
        await assert.rejects(client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: `${longest}y`, Body: "x" })), (e: any) => e.name === "KeyTooLongError" && status(e) === 400);
        await client(alice).send(new (await import("@aws-sdk/client-s3")).DeleteObjectCommand({ Bucket: BUCKET, Key: longest }));
    });

    it("never names a stored file after a key", () => {
        const names: string[] = [];
        const walk = (at: string) => {
            for (const entry of readdirSync(at, { withFileTypes: true })) {
                names.push(entry.name);
                if (entry.isDirectory()) walk(path.join(at, entry.name));
            }
        };
        walk(path.join(dir, "s3store"));
        assert.ok(names.length > 3);
        for (const name of names) assert.match(name, /^([0-9a-f]{64}(\.json)?|[0-9a-f-]{36}(\.part(\.json)?)?|objects|data|uploads|bucket\.json|upload\.json)$/, `file name ${name}`);
    });

    it("lists only with the caller's own prefix", async () => {
        const own = await client(alice).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${ALICE}/` }));
        assert.deepEqual(own.Contents?.map((o) => o.Key), [`private/${ALICE}/a.txt`]);
        await assert.rejects(client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${ALICE}/` })), (e: any) => status(e) === 403);
        await assert.rejects(client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "private/" })), (e: any) => status(e) === 403);
    });

    it("pages a listing with max-keys=1, with and without a delimiter, through continuation tokens", async () => {
        const prefix = `private/${BOB}/pages/`;
        const keysWritten = [`${prefix}a.txt`, `${prefix}b/1.txt`, `${prefix}b/2.txt`, `${prefix}c.txt`, `${prefix}\u00e9.txt`];
        for (const Key of keysWritten) await client(bob).send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
        const seen: string[] = [];
        let pages = 0;
        for await (const page of paginateListObjectsV2({ client: client(bob), pageSize: 1 }, { Bucket: BUCKET, Prefix: prefix })) {
            pages++;
            assert.ok((page.Contents ?? []).length <= 1);
            seen.push(...(page.Contents ?? []).map((o) => o.Key!));
        }
        assert.deepEqual(seen, keysWritten);
        assert.equal(pages, 5);
        const grouped: string[] = [];
        for await (const page of paginateListObjectsV2({ client: client(bob), pageSize: 1 }, { Bucket: BUCKET, Prefix: prefix, Delimiter: "/" })) {
            grouped.push(...(page.Contents ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
        }
        assert.deepEqual(grouped, [`${prefix}a.txt`, `${prefix}b/`, `${prefix}c.txt`, `${prefix}\u00e9.txt`]);
        const after = await client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, StartAfter: `${prefix}b/2.txt` }));
        assert.deepEqual(after.Contents?.map((o) => o.Key), [`${prefix}c.txt`, `${prefix}\u00e9.txt`]);
        const encoded = await client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, EncodingType: "url", MaxKeys: 10 }));
        assert.equal(encoded.EncodingType, "url");
        assert.ok(encoded.Contents?.some((o) => o.Key!.endsWith("/pages/%C3%A9.txt")), JSON.stringify(encoded.Contents?.map((o) => o.Key)));
        assert.deepEqual(encoded.Contents?.map((o) => decodeURIComponent(o.Key!.replace(/\+/g, " "))), keysWritten);
        await assert.rejects(client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: "not-a-token!" })), (e: any) => e.name === "InvalidArgument" && status(e) === 400);
    });

    it("refuses a wrong secret, a missing session token and an unsigned request", async () => {
        const key = `private/${ALICE}/a.txt`;
        await assert.rejects(client(alice, "x".repeat(40)).send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), (e: any) => e.name === "SignatureDoesNotMatch");
        const noToken = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey } });
        await assert.rejects(noToken.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), (e: any) => e.name === "InvalidToken");
        const unsigned = await fetch(`${endpoint}/${BUCKET}/${key}`);
        assert.equal(unsigned.status, 403);
        assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);
    });

    it("rejects a body that does not match its signed payload hash, its Content-MD5 or its checksum", async () => {
        const url = new URL(`${endpoint}/${BUCKET}/private/${ALICE}/t.txt`);
        const signed = await signer(alice).sign({ method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host }, body: "original" });
        const { host: _host, ...headers } = signed.headers as Record<string, string>;
        const response = await fetch(url, { method: "PUT", headers, body: "tampered" });
        assert.equal(response.status, 400);
        assert.match(await response.text(), /XAmzContentSHA256Mismatch/);
        await assert.rejects(
            client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/t.txt`, Body: "data", ChecksumCRC32: "AAAAAA==" })),
            (e: any) => e.name === "BadDigest" && status(e) === 400,
        );
        await assert.rejects(
            client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/t.txt`, Body: "data", ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg==" })),
            (e: any) => e.name === "BadDigest" && status(e) === 400,
        );
        // The SDK's default (a CRC32 of every upload) is verified and accepted.
        const checksummed = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: keys(alice) });
        const put = await checksummed.send(new PutObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/t.txt`, Body: "data" }));
        assert.ok(put.ChecksumCRC32, "the CRC32 is echoed");
        await assert.rejects(client(alice).send(new HeadObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/missing.txt` })), (e: any) => status(e) === 404);
    });

    it("stores the content headers and metadata Amplify sends, and returns them", async () => {
        const key = `private/${ALICE}/report.csv`;
        await client(alice).send(
            new PutObjectCommand({
                Bucket: BUCKET,
                Key: key,
                Body: "a,b\n1,2\n",
                ContentType: "text/csv",
                ContentEncoding: "identity",
                ContentLanguage: "en",
                ContentDisposition: 'inline; filename="report.csv"',
                CacheControl: "max-age=60",
                Expires: new Date("2030-01-01T00:00:00Z"),
                Metadata: { owner: "alice", purpose: "test" },
            }),
        );
        const head = await client(alice).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(head.ContentType, "text/csv");
        assert.equal(head.ContentEncoding, "identity");
        assert.equal(head.ContentLanguage, "en");
        assert.equal(head.ContentDisposition, 'inline; filename="report.csv"');
        assert.equal(head.CacheControl, "max-age=60");
        assert.equal(head.ExpiresString ?? head.Expires?.toUTCString(), "Tue, 01 Jan 2030 00:00:00 GMT");
        assert.deepEqual(head.Metadata, { owner: "alice", purpose: "test" });
        assert.equal(head.ContentLength, 8);
        const range = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: "bytes=4-6" }));
        assert.equal(range.$metadata.httpStatusCode, 206);
        assert.equal(range.ContentRange, "bytes 4-6/8");
        assert.equal(await range.Body!.transformToString(), "1,2");
        await assert.rejects(client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: "bytes=20-30" })), (e: any) => e.name === "InvalidRange" && status(e) === 416);
    });

    it("honours response-* query parameters on a signed GET and on HEAD (response-cache-control=no-store after multipart)", async () => {
        const key = `private/${ALICE}/report.csv`;
        const url = await presign(alice, "GET", key, { "response-content-disposition": 'attachment; filename="r.csv"', "response-content-type": "application/octet-stream", "response-cache-control": "no-store" });
        const download = await fetch(url);
        assert.equal(download.status, 200, await download.clone().text());
        assert.equal(download.headers.get("content-disposition"), 'attachment; filename="r.csv"');
        assert.equal(download.headers.get("content-type"), "application/octet-stream");
        assert.equal(download.headers.get("cache-control"), "no-store");
        assert.equal(await download.text(), "a,b\n1,2\n");
        const head = await client(alice).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ResponseCacheControl: "no-store", ResponseContentLanguage: "de" }));
        assert.equal(head.CacheControl, "no-store");
        assert.equal(head.ContentLanguage, "de");
        const bad = await fetch(await presign(alice, "GET", key, {}, "y".repeat(40)));
        assert.equal(bad.status, 403);
        const unknownParameter = await fetch(await presign(alice, "GET", key, { "response-foo": "x" }));
        assert.equal(unknownParameter.status, 400);
    });

    it("answers If-None-Match: * with 412 PreconditionFailed when the key exists, on PutObject and CompleteMultipartUpload", async () => {
        const key = `private/${ALICE}/once.txt`;
        await client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "first", IfNoneMatch: "*" }));
        await assert.rejects(client(alice).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "second", IfNoneMatch: "*" })), (e: any) => e.name === "PreconditionFailed" && status(e) === 412);
        const { UploadId } = await client(alice).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
        const part = await client(alice).send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: "third" }));
        await assert.rejects(
            client(alice).send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, IfNoneMatch: "*", MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
            (e: any) => e.name === "PreconditionFailed" && status(e) === 412,
        );
        const kept = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(await kept.Body!.transformToString(), "first");
        await client(alice).send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }));
    });

    it("runs a multipart upload: parts of 5 MiB, ListParts, Complete with S3's ETag, and Abort", async () => {
        const key = `private/${ALICE}/big.bin`;
        const first = Buffer.alloc(5 * 1024 * 1024, 1);
        const second = Buffer.from("tail");
        const { UploadId } = await client(alice).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: "application/x-test" }));
        assert.match(UploadId!, /^[A-Za-z0-9_-]{64}$/);
        const p1 = await client(alice).send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: first }));
        const p2 = await client(alice).send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: second }));
        const listed = await client(alice).send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId, MaxParts: 1 }));
        assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, first.length, p1.ETag]]);
        assert.equal(listed.IsTruncated, true);
        const rest = await client(alice).send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumberMarker: listed.NextPartNumberMarker }));
        assert.deepEqual(rest.Parts?.map((p) => p.PartNumber), [2]);
        // Another user may not list or abort it, and the upload id is bound to its key.
        await assert.rejects(client(bob).send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId })), (e: any) => status(e) === 403);
        await assert.rejects(client(bob).send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId })), (e: any) => status(e) === 403);
        await assert.rejects(client(alice).send(new ListPartsCommand({ Bucket: BUCKET, Key: `private/${ALICE}/other.bin`, UploadId })), (e: any) => e.name === "NoSuchUpload");
        await assert.rejects(
            client(alice).send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.ETag }, { PartNumber: 1, ETag: p1.ETag }] } })),
            (e: any) => e.name === "InvalidPartOrder",
        );
        const done = await client(alice).send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
        assert.match(done.ETag!, /^"[0-9a-f]{32}-2"$/);
        const head = await client(alice).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(head.ContentLength, first.length + second.length);
        assert.equal(head.ContentType, "application/x-test");
        const tail = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: "bytes=-4" }));
        assert.equal(await tail.Body!.transformToString(), "tail");
        await assert.rejects(client(alice).send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId })), (e: any) => e.name === "NoSuchUpload", "a completed upload is gone");

        const aborted = await client(alice).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `private/${ALICE}/cancelled.bin` }));
        await client(alice).send(new UploadPartCommand({ Bucket: BUCKET, Key: `private/${ALICE}/cancelled.bin`, UploadId: aborted.UploadId, PartNumber: 1, Body: "x" }));
        await client(alice).send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: `private/${ALICE}/cancelled.bin`, UploadId: aborted.UploadId }));
        await assert.rejects(client(alice).send(new ListPartsCommand({ Bucket: BUCKET, Key: `private/${ALICE}/cancelled.bin`, UploadId: aborted.UploadId })), (e: any) => e.name === "NoSuchUpload");
    });

    it("copies within the caller's prefix, and refuses a copy source with a query or dot segments", async () => {
        const source = `private/${ALICE}/a.txt`;
        const copied = await client(alice).send(new CopyObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/copy.txt`, CopySource: `${BUCKET}/${source}` }));
        assert.ok(copied.CopyObjectResult?.ETag);
        const back = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/copy.txt` }));
        assert.equal(await back.Body!.transformToString(), "hello");
        for (const CopySource of [`${BUCKET}/${source}?partNumber=1`, `${BUCKET}/private/${ALICE}/../${ALICE}/a.txt`, `${BUCKET}/private/${ALICE}/%2e%2e/x`, `${BUCKET}`]) {
            await assert.rejects(client(alice).send(new CopyObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/copy2.txt`, CopySource })), (e: any) => status(e) === 400, CopySource);
        }
        await assert.rejects(client(bob).send(new CopyObjectCommand({ Bucket: BUCKET, Key: `private/${BOB}/stolen.txt`, CopySource: `${BUCKET}/${source}` })), (e: any) => status(e) === 403);
    });

    it("answers GetBucketLocation, and 501 NotImplemented in S3's XML format for operations it does not emulate, to signed requests only", async () => {
        const location = await client(alice).send(new GetBucketLocationCommand({ Bucket: BUCKET }));
        assert.equal(location.LocationConstraint ?? "", "");
        for (const [method, pathAndQuery] of [
            ["GET", `/${BUCKET}/private/${ALICE}/a.txt?acl`],
            ["PUT", `/${BUCKET}/private/${ALICE}/a.txt?tagging`],
            ["GET", `/${BUCKET}?versioning`],
            ["POST", `/${BUCKET}`],
            ["GET", `/${BUCKET}`],
        ]) {
            const url = new URL(`${endpoint}${pathAndQuery}`);
            const query = Object.fromEntries(url.searchParams);
            const signed = await signer(alice).sign({ method, protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } });
            const { host: _host, ...headers } = signed.headers as Record<string, string>;
            const response = await fetch(url, { method, headers });
            assert.equal(response.status, 501, `${method} ${pathAndQuery}`);
            assert.match(await response.text(), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>NotImplemented<\/Code><Message>[^<]+<\/Message><RequestId>/);
            // Unsigned, the same request is refused as S3 refuses an anonymous one: no 5xx, nothing said about what is emulated.
            const anonymous = await fetch(url, { method });
            assert.equal(anonymous.status, 403, `unsigned ${method} ${pathAndQuery}`);
            assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
        }
    });

    it("answers a payload hash that is none with S3's 400 InvalidArgument, and streaming payload signing with 501", async () => {
        const url = new URL(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`);
        for (const [declared, status, code] of [
            ["not-a-hash", 400, "InvalidArgument"],
            ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 501, "NotImplemented"],
        ] as const) {
            const signed = await signer(alice).sign({ method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, "x-amz-content-sha256": declared } });
            const { host: _host, ...headers } = signed.headers as Record<string, string>;
            const response = await fetch(url, { headers });
            assert.equal(response.status, status, declared);
            assert.match(await response.text(), new RegExp(`<Code>${code}</Code>`), declared);
        }
    });

    it("serves virtual-hosted requests addressed to <bucket>.s3.<region>.amazonaws.com, signed for that host", async () => {
        // What a browser sends through a TLS terminator that keeps the original Host: the SDK's own
        // virtual-hosted addressing, with the S3 host name resolved to this machine.
        const lookup = (_host: string, options: any, callback: any) => (options?.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4));
        const virtual = new S3Client({
            region: REGION,
            endpoint: `http://s3.${REGION}.amazonaws.com:${port}`,
            forcePathStyle: false,
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
            credentials: keys(alice),
            requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup } as any) }),
        });
        const key = `private/${ALICE}/virtual host.txt`;
        await virtual.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "via the S3 host name" }));
        const back = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(await back.Body!.transformToString(), "via the S3 host name");
        const listed = await virtual.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${ALICE}/virtual` }));
        assert.deepEqual(listed.Contents?.map((o) => o.Key), [key]);
        await assert.rejects(virtual.send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${BOB}/pages/a.txt` })), (e: any) => status(e) === 403);
        // Path-style on the regional host name works too; another region's host name is refused.
        const pathStyle = await rawRequest(port, "GET", `/${BUCKET}/${encodeURIComponent("x")}`, { host: `s3.${REGION}.amazonaws.com` });
        assert.equal(pathStyle.status, 403, "unsigned, but addressed and answered");
        assert.match(pathStyle.text, /<Code>AccessDenied<\/Code>/);
        const otherRegion = await rawRequest(port, "GET", `/x`, { host: `${BUCKET}.s3.eu-west-1.amazonaws.com` });
        assert.equal(otherRegion.status, 403);
        assert.match(otherRegion.text, /answers only loopback names and S3 host names of us-east-1/);
    });

    it("refuses a Host that is not loopback or S3's (DNS rebinding), before reading anything", async () => {
        for (const host of ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", `${BUCKET}.s3.${REGION}.amazonaws.com.evil.example`]) {
            const response = await rawRequest(port, "GET", `/${BUCKET}/private/${ALICE}/a.txt`, { host });
            assert.equal(response.status, 403, host);
        }
        for (const host of ["localhost", `localhost:${port}`, `app.localhost:${port}`, "127.0.0.2", "[::1]:80"]) {
            const response = await rawRequest(port, "GET", `/${BUCKET}/private/${ALICE}/a.txt`, { host });
            assert.match(response.text, /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/, `${host}: the unsigned request reached the signature check`);
        }
    });

    it("answers CORS preflights from the bucket's rules, unsigned", async () => {
        const allowed = await fetch(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`, {
            method: "OPTIONS",
            headers: { origin: ORIGIN, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, x-amz-date, content-type" },
        });
        assert.equal(allowed.status, 200);
        assert.equal(allowed.headers.get("access-control-allow-origin"), ORIGIN);
        assert.equal(allowed.headers.get("access-control-allow-headers"), "authorization, x-amz-date, content-type");
        assert.equal(allowed.headers.get("access-control-max-age"), "300");
        const wrongMethod = await fetch(`${endpoint}/${BUCKET}/k`, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "DELETE" } });
        assert.equal(wrongMethod.status, 403);
        const foreign = await fetch(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "PUT" } });
        assert.equal(foreign.status, 403);
        assert.equal(foreign.headers.get("access-control-allow-origin"), null);
        const denied = await fetch(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`, { headers: { origin: ORIGIN } });
        assert.equal(denied.headers.get("access-control-allow-origin"), ORIGIN, "a 403 still carries CORS headers");
        assert.equal(denied.headers.get("access-control-expose-headers"), "ETag");
    });

    it("parses each request into one operation and authorizes exactly its IAM actions", () => {
        const authorizations = (method: string, key: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
            s3Authorizations(parseS3Request(received(method, `/${BUCKET}/${key}`, query, headers), REGION)).map((a) => `${a.action} ${a.resource.replace(`arn:aws:s3:::${BUCKET}`, "")}`);
        const uploadId = "u".repeat(64);
        assert.deepEqual(authorizations("GET", "private/k"), ["s3:GetObject /private/k"]);
        assert.deepEqual(authorizations("HEAD", "private/k", { "response-cache-control": "no-store" }), ["s3:GetObject /private/k"]);
        assert.deepEqual(authorizations("PUT", "private/k", { "x-id": "PutObject" }), ["s3:PutObject /private/k"]);
        assert.deepEqual(authorizations("POST", "private/k", { uploads: "" }), ["s3:PutObject /private/k"]);
        assert.deepEqual(authorizations("PUT", "private/k", { uploadId, partNumber: "1" }), ["s3:PutObject /private/k"]);
        assert.deepEqual(authorizations("POST", "private/k", { uploadId }), ["s3:PutObject /private/k"]);
        assert.deepEqual(authorizations("DELETE", "private/k", { uploadId }), ["s3:AbortMultipartUpload /private/k"]);
        assert.deepEqual(authorizations("GET", "private/k", { uploadId }), ["s3:ListMultipartUploadParts /private/k"]);
        assert.deepEqual(authorizations("DELETE", "private/k"), ["s3:DeleteObject /private/k"]);
        assert.deepEqual(authorizations("PUT", "private/k", {}, { "x-amz-copy-source": `/${BUCKET}/private/other%20file` }), ["s3:PutObject /private/k", "s3:GetObject /private/other file"]);
        const list = s3Authorizations(parseS3Request(received("GET", `/${BUCKET}`, { "list-type": "2", prefix: "private/a/", delimiter: "/" }), REGION));
        assert.deepEqual(list, [{ action: "s3:ListBucket", resource: `arn:aws:s3:::${BUCKET}`, context: { "s3:prefix": "private/a/", "s3:delimiter": "/" } }]);
        const refused = (method: string, key: string, query: Record<string, string>, pattern: RegExp) =>
            assert.throws(() => parseS3Request(received(method, `/${BUCKET}/${key}`, query), REGION), (e: any) => pattern.test(`${e.status} ${e.code}`), `${method} ${key} ${JSON.stringify(query)}`);
        refused("PUT", "private/k", { uploadId, partNumber: "0" }, /^400 InvalidArgument$/);
        refused("PUT", "private/k", { uploadId, partNumber: "10001" }, /^400 InvalidArgument$/);
        refused("PUT", "private/k", { uploadId, partNumber: "1e3" }, /^400 InvalidArgument$/);
        refused("PUT", "private/k", { uploadId: "../../etc", partNumber: "1" }, /^404 NoSuchUpload$/);
        refused("GET", "private/k", { prefix: "x" }, /^400 InvalidArgument$/);
        refused("PUT", "", { policy: "" }, /^501 NotImplemented$/);
        refused("GET", "private/k", { versionId: "1" }, /^400 InvalidArgument$/);
        refused("PUT", "", { versioning: "" }, /^501 NotImplemented$/);
        const version = "v".repeat(32);
        assert.deepEqual(authorizations("GET", "private/k", { versionId: version }), ["s3:GetObjectVersion /private/k"]);
        assert.deepEqual(authorizations("HEAD", "private/k", { versionId: "null" }), ["s3:GetObjectVersion /private/k"]);
        assert.deepEqual(authorizations("DELETE", "private/k", { versionId: version }), ["s3:DeleteObjectVersion /private/k"]);
        assert.deepEqual(authorizations("PUT", "private/k", {}, { "x-amz-copy-source": `/${BUCKET}/private/a?versionId=${version}` }), ["s3:PutObject /private/k", "s3:GetObjectVersion /private/a"]);
        const versions = s3Authorizations(parseS3Request(received("GET", `/${BUCKET}`, { versions: "", prefix: "private/a/" }), REGION));
        assert.deepEqual(versions, [{ action: "s3:ListBucketVersions", resource: `arn:aws:s3:::${BUCKET}`, context: { "s3:prefix": "private/a/" } }]);
        refused("PATCH", "private/k", {}, /^405 MethodNotAllowed$/);
    });
});
