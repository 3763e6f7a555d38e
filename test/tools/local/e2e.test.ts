import { GetIdCommand, CognitoIdentityClient } from "@aws-sdk/client-cognito-identity";
import {
    AdminConfirmSignUpCommand,
    CognitoIdentityProviderClient,
    CreateUserPoolClientCommand,
    CreateUserPoolCommand,
    SignUpCommand,
    UpdateUserPoolClientCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FlowUser, NotesClient, newPassword, runUserFlow, srpSignIn } from "../../../tools/client/flow";
import { startLocalCloudProcess, LocalCloudProcess } from "../../../tools/local/process";
import { sendTamperedPost } from "../../support/sigv4";

/** Signs up and signs in a user in any local pool; returns the id token. */
async function tokenFrom(idp: CognitoIdentityProviderClient, endpoint: string, userPoolId: string, clientId: string): Promise<string> {
    const email = `other-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const password = newPassword();
    await idp.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] }));
    await idp.send(new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: email }));
    return (await srpSignIn({ userPoolId, userPoolClientId: clientId, endpoint }, email, password)).idToken;
}

describe("local cloud end to end (npm start in a child process)", function () {
    this.timeout(60_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;
    let client: NotesClient;

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-local-"));
        cloud = await startLocalCloudProcess(dataDir);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
    });

    after(async () => {
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
    });

    it("prints the ready line with every output and writes outputs.json in the contract's shape", () => {
        const { outputs } = cloud;
        assert.deepEqual(Object.keys(outputs).sort(), ["apiUrl", "bucketName", "endpoints", "identityPoolId", "region", "tableName", "userPoolClientId", "userPoolId"]);
        assert.deepEqual(Object.keys(outputs.endpoints).sort(), ["cognitoIdentity", "cognitoIdp", "dynamodb", "s3"]);
        assert.match(outputs.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        assert.match(outputs.identityPoolId, /^us-east-1:[0-9a-f-]{36}$/);
        const ready = cloud.output().split("\n").find((line) => line.startsWith("READY"));
        assert.ok(ready, cloud.output());
        for (const value of [outputs.apiUrl, outputs.userPoolId, outputs.userPoolClientId, outputs.identityPoolId, outputs.bucketName, outputs.tableName]) {
            assert.ok(ready.includes(value), `ready line lacks ${value}`);
        }
        assert.doesNotMatch(cloud.output(), /override notes-infra:allowUserPasswordAuth/, "the app client keeps the program's auth flows");
    });

    it("runs the whole user flow: sign-up to delete, every route signed, attachment in the caller's prefix", async () => {
        const { steps } = await runUserFlow(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        assert.ok(steps.length >= 14, `only ${steps.length} steps ran`);
    });

    describe("with two users", () => {
        let alice: FlowUser;
        let bob: FlowUser;
        let aliceNote: string;
        let aliceFile: string;

        before(async () => {
            [alice, bob] = await Promise.all([client.newUser("alice"), client.newUser("bob")]);
            const created = await client.api(alice, "POST", "/notes", { content: "alice's secret" });
            assert.equal(created.status, 201, created.text);
            aliceNote = created.json().noteId;
            aliceFile = `private/${alice.identityId}/secret.txt`;
            await client.s3(alice).send(new PutObjectCommand({ Bucket: cloud.outputs.bucketName, Key: aliceFile, Body: "alice only" }));
        });

        it("gives each user a distinct identity id in AWS's format", () => {
            assert.notEqual(alice.identityId, bob.identityId);
            assert.match(alice.identityId, /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        });

        it("shows a second user none of the first user's notes", async () => {
            const list = await client.api(bob, "GET", "/notes");
            assert.equal(list.status, 200);
            assert.deepEqual(list.json().notes, []);
            const direct = await client.api(bob, "GET", `/notes/${aliceNote}`);
            assert.equal(direct.status, 404);
            const overwrite = await client.api(bob, "PUT", `/notes/${aliceNote}`, { content: "bob was here" });
            assert.equal(overwrite.status, 404);
            const own = await client.api(alice, "GET", `/notes/${aliceNote}`);
            assert.equal(own.json().content, "alice's secret");
        });

        it("shows a second user none of the first user's files", async () => {
            const s3 = client.s3(bob);
            const bucket = cloud.outputs.bucketName;
            await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: aliceFile })), (error: any) => error.$metadata.httpStatusCode === 403);
            await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${alice.identityId}/` })), (error: any) => error.$metadata.httpStatusCode === 403);
            await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: bucket })), (error: any) => error.$metadata.httpStatusCode === 403);
            await assert.rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: aliceFile, Body: "overwritten" })), (error: any) => error.$metadata.httpStatusCode === 403);
            const ownList = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${bob.identityId}/` }));
            assert.equal(ownList.KeyCount ?? 0, 0);
            const aliceList = await client.s3(alice).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${alice.identityId}/` }));
            assert.deepEqual(aliceList.Contents?.map((o) => o.Key), [aliceFile]);
        });

        it("refuses tampered, wrong-secret, stale and token-less requests with 403 before any handler runs", async () => {
            const url = new URL("notes", cloud.outputs.apiUrl).toString();
            const region = cloud.outputs.region;
            const creds = bob.credentials;
            const body = JSON.stringify({ content: "should never be stored" });
            const attempts = {
                tampered: await sendTamperedPost(url, creds, region, JSON.stringify({ content: "signed" }), body),
                tamperedWithoutHashHeader: await sendTamperedPost(url, creds, region, JSON.stringify({ content: "signed" }), body, false),
                wrongSecret: await client.api({ ...bob, credentials: { ...creds, secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } }, "POST", "/notes", { content: "x" }),
                expiredSignature: await (async () => {
                    const { signedFetch } = await import("../../../tools/client/client");
                    return signedFetch(url, { method: "POST", body, headers: { "content-type": "application/json" }, credentials: creds, region, signingDate: new Date(Date.now() - 16 * 60 * 1000) });
                })(),
                missingSessionToken: await client.api({ ...bob, credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey } }, "POST", "/notes", { content: "x" }),
                unsigned: await client.api(undefined, "POST", "/notes", { content: "x" }),
            };
            const statuses = Object.fromEntries(Object.entries(attempts).map(([name, response]) => [name, response.status]));
            assert.deepEqual(statuses, { tampered: 403, tamperedWithoutHashHeader: 403, wrongSecret: 403, expiredSignature: 403, missingSessionToken: 403, unsigned: 403 });
            assert.match((attempts.expiredSignature as { text: string }).text, /Signature expired/);
            // No handler ran: bob still has no notes at all.
            const list = await client.api(bob, "GET", "/notes");
            assert.deepEqual(list.json().notes, []);
        });
    });

    it("refuses at GetId a token from another user pool or from another app client", async () => {
        const { endpoints, region, userPoolId, userPoolClientId, identityPoolId } = cloud.outputs;
        const idp = new CognitoIdentityProviderClient({ region, endpoint: endpoints.cognitoIdp, credentials: cloud.adminCredentials });
        const identity = new CognitoIdentityClient({ region, endpoint: endpoints.cognitoIdentity });
        const realKey = `cognito-idp.${region}.amazonaws.com/${userPoolId}`;

        const otherPool = (await idp.send(new CreateUserPoolCommand({ PoolName: "intruders", UsernameAttributes: ["email"] }))).UserPool!.Id!;
        const otherPoolClient = (await idp.send(new CreateUserPoolClientCommand({ UserPoolId: otherPool, ClientName: "intruder" }))).UserPoolClient!.ClientId!;
        const otherPoolToken = await tokenFrom(idp, endpoints.cognitoIdp, otherPool, otherPoolClient);
        const otherClient = (await idp.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: "other-app" }))).UserPoolClient!.ClientId!;
        const otherClientToken = await tokenFrom(idp, endpoints.cognitoIdp, userPoolId, otherClient);
        const goodToken = await tokenFrom(idp, endpoints.cognitoIdp, userPoolId, userPoolClientId);

        const getId = (Logins: Record<string, string>) => identity.send(new GetIdCommand({ IdentityPoolId: identityPoolId, Logins }));
        const refused = (error: any) => error.name === "NotAuthorizedException" && /Invalid login token|Unauthenticated access is not supported/.test(error.message);
        await assert.rejects(getId({ [`cognito-idp.${region}.amazonaws.com/${otherPool}`]: otherPoolToken }), refused);
        await assert.rejects(getId({ [realKey]: otherPoolToken }), refused);
        await assert.rejects(getId({ [realKey]: otherClientToken }), refused);
        await assert.rejects(getId({ [realKey]: `${goodToken.slice(0, -4)}AAAA` }), refused);
        await assert.rejects(getId({}), refused);
        const { IdentityId } = await getId({ [realKey]: goodToken });
        assert.match(IdentityId!, /^us-east-1:/);
        assert.equal((await getId({ [realKey]: goodToken })).IdentityId, IdentityId, "the identity id is stable per user");
    });

    /** An SRP sign-in for an email with no account, as the stack's app client answers it. */
    const signInNobody = () => srpSignIn({ ...cloud.outputs, endpoint: cloud.outputs.endpoints.cognitoIdp }, `nobody-${Date.now()}@example.com`, newPassword());
    const incorrect = (error: any) => error.name === "NotAuthorizedException" && error.message === "Incorrect username or password.";

    it("answers a sign-in for an unknown email as the stack's app client is set (PreventUserExistenceErrors: ENABLED)", async () => {
        await assert.rejects(signInNobody(), incorrect);
    });

    it("refuses a second local cloud on the same data directory and leaves the first one serving", async () => {
        await assert.rejects(startLocalCloudProcess(dataDir, [], 20_000, false), /Another local cloud \(pid \d+\) is using/);
        const list = await client.api(await client.newUser("still"), "GET", "/notes");
        assert.equal(list.status, 200);
    });

    it("keeps users, notes and files across a restart, with the same pool, client and identity pool", async () => {
        const email = `restart-${Date.now()}@example.com`;
        const password = newPassword();
        await client.signUp(email, password);
        await client.confirm(email);
        const user = { email, idToken: "", ...(await client.identityCredentials(await client.logIn(email, password))) };
        const created = await client.api(user, "POST", "/notes", { content: "survives restarts" });
        assert.equal(created.status, 201, created.text);
        const key = `private/${user.identityId}/kept.txt`;
        await client.s3(user).send(new PutObjectCommand({ Bucket: cloud.outputs.bucketName, Key: key, Body: "kept" }));

        // A client whose settings drifted (as one made before the program set them) takes the program's again at start.
        const admin = new CognitoIdentityProviderClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.cognitoIdp, credentials: cloud.adminCredentials });
        await admin.send(new UpdateUserPoolClientCommand({ UserPoolId: cloud.outputs.userPoolId, ClientId: cloud.outputs.userPoolClientId, PreventUserExistenceErrors: "LEGACY" }));
        await assert.rejects(signInNobody(), (error: any) => error.name === "UserNotFoundException");

        const before = cloud.outputs;
        assert.equal(await cloud.stop("SIGTERM"), 0, "the local cloud stops cleanly on SIGTERM");
        assert.match(cloud.output(), /stopped; data is in place/);
        cloud = await startLocalCloudProcess(dataDir);
        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        for (const key of ["userPoolId", "userPoolClientId", "identityPoolId", "bucketName", "tableName"] as const) {
            assert.equal(cloud.outputs[key], before[key], `${key} changed across the restart`);
        }

        const again = await client.identityCredentials(await client.logIn(email, password));
        assert.equal(again.identityId, user.identityId);
        const back = { ...user, ...again };
        const note = await client.api(back, "GET", `/notes/${created.json().noteId}`);
        assert.equal(note.status, 200, note.text);
        assert.equal(note.json().content, "survives restarts");
        const file = await client.s3(back).send(new GetObjectCommand({ Bucket: cloud.outputs.bucketName, Key: key }));
        assert.equal(await file.Body!.transformToString(), "kept");
        await assert.rejects(signInNobody(), incorrect);
    });
});
