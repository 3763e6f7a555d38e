import { CognitoIdentityClient, DescribeIdentityCommand } from "@aws-sdk/client-cognito-identity";
import { AdminGetUserCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FlowUser, NotesClient } from "../../tools/client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";

/**
 * DELETE /account through the local cloud running the prod stack (versioned bucket): the real
 * gateway, IAM decisions, the account function with its own role, the local S3, User Pools and
 * identity service. What is left is checked with the data directory's admin key, as an operator
 * would; another user's notes and files, every version included, must stay byte-identical.
 */
describe("DELETE /account through the local cloud (prod stack): erases the caller entirely and nothing of anyone else", function () {
    this.timeout(120_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let client: NotesClient;
    let bucket: string;
    let admin: { s3: S3Client; table: DynamoDBDocumentClient; identity: CognitoIdentityClient; idp: CognitoIdentityProviderClient };
    let alice: FlowUser;
    let bob: FlowUser;
    let carol: FlowUser;

    const sub = (user: FlowUser): string => JSON.parse(Buffer.from(user.idToken.split(".")[1], "base64url").toString("utf8")).sub;

    /** Everything a user owns, as the admin key sees it: table items, and every version and delete marker with its bytes. */
    async function holdings(user: FlowUser): Promise<{ items: unknown[]; versions: Record<string, string> }> {
        const scan = await admin.table.send(new ScanCommand({ TableName: cloud.outputs.tableName, ConsistentRead: true }));
        const items = (scan.Items ?? []).filter((item) => item.userId === user.identityId).sort((a, b) => String(a.noteId).localeCompare(String(b.noteId)));
        const listed = await admin.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `private/${user.identityId}/` }));
        const versions: Record<string, string> = {};
        for (const v of listed.Versions ?? []) {
            const object = await admin.s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
            versions[`${v.Key}@${v.VersionId}`] = await object.Body!.transformToString();
        }
        for (const marker of listed.DeleteMarkers ?? []) versions[`${marker.Key}@${marker.VersionId}`] = "(delete marker)";
        return { items, versions };
    }

    async function seed(user: FlowUser, notes: number): Promise<void> {
        const s3 = client.s3(user);
        const file = `private/${user.identityId}/report.pdf`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file, Body: `${user.email} v1` }));
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file, Body: `${user.email} v2` }));
        const gone = `private/${user.identityId}/deleted.png`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: gone, Body: `${user.email} deleted` }));
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));
        for (let i = 0; i < notes; i++) {
            const created = await client.api(user, "POST", "/notes", { content: `${user.email} note ${i}`, ...(i === 0 ? { attachment: file } : {}) });
            assert.equal(created.status, 201, created.text);
        }
    }

    /** Calls DELETE /account until 204, as the reference client does; returns the statuses. */
    async function deleteAccount(user: FlowUser, extra: { path?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<number[]> {
        const statuses: number[] = [];
        for (let call = 0; call < 20; call++) {
            const response = await client.api(user, "DELETE", extra.path ?? "/account", extra.body, extra.headers);
            statuses.push(response.status);
            if (response.status === 204) return statuses;
            assert.equal(response.status, 202, response.text);
            assert.ok(Array.isArray(response.json().remaining) && response.json().remaining.length > 0, response.text);
        }
        assert.fail(`no 204 after 20 calls: ${statuses.join(", ")}`);
    }

    async function gone(user: FlowUser): Promise<void> {
        assert.deepEqual(await holdings(user), { items: [], versions: {} });
        await assert.rejects(admin.identity.send(new DescribeIdentityCommand({ IdentityId: user.identityId })), (e: Error) => e.name === "ResourceNotFoundException");
        await assert.rejects(admin.idp.send(new AdminGetUserCommand({ UserPoolId: cloud.outputs.userPoolId, Username: sub(user) })), (e: Error) => e.name === "UserNotFoundException");
    }

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-erasure-"));
        cloud = await startLocalCloudProcess(dataDir, ["--stack", "prod"], 100_000);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        bucket = cloud.outputs.bucketName;
        const { region, endpoints } = cloud.outputs;
        const credentials = cloud.adminCredentials;
        admin = {
            s3: new S3Client({ region, endpoint: endpoints.s3, forcePathStyle: true, credentials, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" }),
            table: DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials: { accessKeyId: "local", secretAccessKey: "local" } })),
            identity: new CognitoIdentityClient({ region, endpoint: endpoints.cognitoIdentity, credentials }),
            idp: new CognitoIdentityProviderClient({ region, endpoint: endpoints.cognitoIdp, credentials }),
        };
        [alice, bob, carol] = await Promise.all([client.newUser("alice"), client.newUser("bob"), client.newUser("carol")]);
        await Promise.all([seed(alice, 30), seed(bob, 3), seed(carol, 3)]);
    });

    after(async () => {
        admin?.table.destroy();
        await cloud?.stop();
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("erases only the caller when another user's identity id and username are in the path, query, body and headers", async () => {
        const aliceBefore = await holdings(alice);
        const carolBefore = await holdings(carol);
        assert.equal(aliceBefore.items.length, 30);
        assert.equal(Object.keys(aliceBefore.versions).length, 4, "two versions, one deleted object's version and its delete marker");

        // No route takes an id: the gateway refuses these before any function runs.
        for (const route of [`/account/${encodeURIComponent(alice.identityId)}`, `/account/${sub(alice)}`]) {
            const refused = await client.api(bob, "DELETE", route);
            assert.ok([403, 404].includes(refused.status), `${route}: ${refused.status}`);
        }
        const statuses = await deleteAccount(bob, {
            path: `/account?identityId=${encodeURIComponent(alice.identityId)}&username=${encodeURIComponent(alice.email)}&sub=${sub(alice)}`,
            body: { identityId: alice.identityId, username: alice.email, sub: sub(alice), userId: alice.identityId },
            headers: { "x-identity-id": alice.identityId, "x-username": alice.email, "x-amz-cognito-identity-id": alice.identityId },
        });
        assert.equal(statuses[statuses.length - 1], 204);
        await gone(bob);
        assert.deepEqual(await holdings(alice), aliceBefore, "alice's notes or file versions changed");
        assert.deepEqual(await holdings(carol), carolBefore, "carol's notes or file versions changed");
    });

    it("erases every note, version, delete marker, the identity and the user; sign-in then fails; another call answers 204", async () => {
        const carolBefore = await holdings(carol);
        const statuses = await deleteAccount(alice);
        assert.equal(statuses[statuses.length - 1], 204);
        await gone(alice);
        await assert.rejects(client.logIn(alice.email, "Any-Passw0rd!"), (e: Error) => e.name === "NotAuthorizedException");
        // The credentials live until they expire: calling again finds nothing and answers 204.
        const again = await client.api(alice, "DELETE", "/account");
        assert.equal(again.status, 204, again.text);
        assert.deepEqual(await holdings(carol), carolBefore, "carol's notes or file versions changed");
    });
});
