import { Sha256 } from "@aws-crypto/sha256-js";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CredentialStore, SessionCredentials } from "../../local/credentials";
import { LocalRegistry } from "../../local/registry";
import { LocalS3, s3Authorizations } from "../../local/s3front";
import type { ReceivedRequest } from "../../local/sigv4";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

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
        { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `arn:aws:s3:::${BUCKET}/private/${SUB}/*` },
        { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${BUCKET}`, Condition: { StringLike: { "s3:prefix": [`private/${SUB}/`, `private/${SUB}/*`] } } },
    ],
});
const TLS_ONLY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
});

function received(method: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body = ""): ReceivedRequest {
    return { method, path: "/", query, headers, body: Buffer.from(body) };
}

describe("local S3 front", () => {
    let dir: string;
    let s3: LocalS3;
    let endpoint: string;
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
        endpoint = `http://127.0.0.1:${await s3.listen(0)}`;
        await s3.createBucket(BUCKET);
        await s3.putCors(BUCKET, [{ allowedOrigins: [ORIGIN], allowedMethods: ["GET", "PUT"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 300 }]);
        alice = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: ALICE });
        bob = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: BOB });
    });

    after(async () => {
        await s3.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const client = (session: SessionCredentials, secretAccessKey = session.secretAccessKey) =>
        new S3Client({
            region: REGION,
            endpoint,
            forcePathStyle: true,
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
            credentials: { accessKeyId: session.accessKeyId, secretAccessKey, sessionToken: session.sessionToken },
        });
    const status = (error: any) => error.$metadata?.httpStatusCode;
    const keys = (session: SessionCredentials) => ({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken });

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

    it("refuses keys and prefixes with dot segments, which the file store would resolve to another user's key", async () => {
        const escape = `private/${BOB}/../${ALICE}/a.txt`;
        const bobClient = client(bob);
        await assert.rejects(bobClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: escape })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new PutObjectCommand({ Bucket: BUCKET, Key: escape, Body: "overwrite" })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${BOB}/../${ALICE}/` })), (e: any) => status(e) === 400);
        await assert.rejects(bobClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${BOB}/./x` })), (e: any) => status(e) === 400);
        const intact = await client(alice).send(new GetObjectCommand({ Bucket: BUCKET, Key: `private/${ALICE}/a.txt` }));
        assert.equal(await intact.Body!.transformToString(), "hello");
    });

    it("lists only with the caller's own prefix", async () => {
        const own = await client(alice).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${ALICE}/` }));
        assert.deepEqual(own.Contents?.map((o) => o.Key), [`private/${ALICE}/a.txt`]);
        await assert.rejects(client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `private/${ALICE}/` })), (e: any) => status(e) === 403);
        await assert.rejects(client(bob).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "private/" })), (e: any) => status(e) === 403);
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

    it("rejects a body that does not match its signed payload hash", async () => {
        const signer = new SignatureV4({ credentials: keys(alice), region: REGION, service: "s3", sha256: Sha256, uriEscapePath: false });
        const url = new URL(`${endpoint}/${BUCKET}/private/${ALICE}/t.txt`);
        const signed = await signer.sign({ method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host }, body: "original" });
        const { host: _host, ...headers } = signed.headers as Record<string, string>;
        const response = await fetch(url, { method: "PUT", headers, body: "tampered" });
        assert.equal(response.status, 400);
        assert.match(await response.text(), /XAmzContentSHA256Mismatch/);
    });

    it("serves a presigned GET URL and refuses one signed with another secret", async () => {
        const url = new URL(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`);
        const presign = async (secretAccessKey: string) => {
            const signer = new SignatureV4({ credentials: { ...keys(alice), secretAccessKey }, region: REGION, service: "s3", sha256: Sha256, uriEscapePath: false });
            // As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, hoisted into the query.
            const request = await signer.presign(
                { method: "GET", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
                { expiresIn: 300 },
            );
            return `${url.origin}${url.pathname}?${new URLSearchParams(request.query as Record<string, string>)}`;
        };
        const good = await fetch(await presign(alice.secretAccessKey));
        assert.equal(good.status, 200);
        assert.equal(await good.text(), "hello");
        const bad = await fetch(await presign("y".repeat(40)));
        assert.equal(bad.status, 403);
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
        const denied = await fetch(`${endpoint}/${BUCKET}/private/${ALICE}/a.txt`, { headers: { origin: ORIGIN } });
        assert.equal(denied.headers.get("access-control-allow-origin"), ORIGIN, "a 403 still carries CORS headers");
    });

    it("maps S3 REST requests to the IAM actions S3 authorizes", () => {
        const object = (method: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
            s3Authorizations(received(method, query, headers), BUCKET, "private/k")?.map((a) => `${a.action} ${a.resource.replace(`arn:aws:s3:::${BUCKET}`, "")}`);
        assert.deepEqual(object("GET"), ["s3:GetObject /private/k"]);
        assert.deepEqual(object("HEAD"), ["s3:GetObject /private/k"]);
        assert.deepEqual(object("PUT"), ["s3:PutObject /private/k"]);
        assert.deepEqual(object("POST", { uploads: "" }), ["s3:PutObject /private/k"]);
        assert.deepEqual(object("PUT", { uploadId: "u", partNumber: "1" }), ["s3:PutObject /private/k"]);
        assert.deepEqual(object("DELETE", { uploadId: "u" }), ["s3:AbortMultipartUpload /private/k"]);
        assert.deepEqual(object("DELETE"), ["s3:DeleteObject /private/k"]);
        assert.deepEqual(object("PUT", {}, { "x-amz-copy-source": `/${BUCKET}/private/other` }), ["s3:PutObject /private/k", "s3:GetObject /private/other"]);
        const list = s3Authorizations(received("GET", { "list-type": "2", prefix: "private/a/", delimiter: "/" }), BUCKET, "");
        assert.deepEqual(list, [{ action: "s3:ListBucket", resource: `arn:aws:s3:::${BUCKET}`, context: { "s3:prefix": "private/a/", "s3:delimiter": "/" } }]);
        const bulk = s3Authorizations(received("POST", { delete: "" }, {}, "<Delete><Object><Key>private/a/1</Key></Object><Object><Key>private/b/2</Key></Object></Delete>"), BUCKET, "");
        assert.deepEqual(bulk?.map((a) => a.resource), [`arn:aws:s3:::${BUCKET}/private/a/1`, `arn:aws:s3:::${BUCKET}/private/b/2`]);
        assert.equal(s3Authorizations(received("PUT", { policy: "" }), BUCKET, ""), undefined, "bucket configuration calls are not authorized locally");
    });
});
