import { CognitoIdentityClient, DeleteIdentitiesCommand, DescribeIdentityCommand, GetCredentialsForIdentityCommand, GetIdCommand, ListIdentitiesCommand } from "@aws-sdk/client-cognito-identity";
import { AdminDeleteUserCommand, CognitoIdentityProviderClient, ConfirmSignUpCommand, GlobalSignOutCommand, InitiateAuthCommand, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DeleteObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { newPassword, srpSignIn } from "../../../tools/client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../../../tools/local/process";

/**
 * The prod stack (versioned bucket) under `npm start`: what an account's end looks like locally,
 * with the SDK's own clients and the data directory's admin key.
 */
describe("local cloud, prod stack: sign-out, deletion and what the admin key sees (npm start -- --stack prod)", function () {
    this.timeout(90_000);
    let dataDir: string;
    let cloud: LocalCloudProcess;

    before(async () => {
        dataDir = mkdtempSync(path.join(tmpdir(), "notes-lifecycle-"));
        cloud = await startLocalCloudProcess(dataDir, ["--stack", "prod"], 80_000);
    });

    after(async () => {
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
    });

    const idp = () => new CognitoIdentityProviderClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.cognitoIdp, maxAttempts: 1 });
    const adminIdp = () => new CognitoIdentityProviderClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.cognitoIdp, credentials: cloud.adminCredentials, maxAttempts: 1 });
    const identity = (credentials = cloud.adminCredentials) => new CognitoIdentityClient({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.cognitoIdentity, credentials, maxAttempts: 1 });
    const s3 = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
        new S3Client({ region: cloud.outputs.region, endpoint: cloud.outputs.endpoints.s3, forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", credentials, maxAttempts: 1 });
    const loginsKey = () => `cognito-idp.${cloud.outputs.region}.amazonaws.com/${cloud.outputs.userPoolId}`;

    /** Signs up with the code the console printed, signs in with SRP, and gets the identity's credentials. */
    async function user() {
        const email = `life-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
        const password = newPassword();
        await idp().send(new SignUpCommand({ ClientId: cloud.outputs.userPoolClientId, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] }));
        let line: string | undefined;
        for (let i = 0; i < 50 && !line; i++) {
            line = cloud.output().split("\n").find((l) => l.startsWith("[cognito] confirmation code for ") && l.includes(` (${email}): `));
            if (!line) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.match(line ?? "", /^\[cognito\] confirmation code for [0-9a-f-]{36} \([^)]+\): \d{6}$/);
        await idp().send(new ConfirmSignUpCommand({ ClientId: cloud.outputs.userPoolClientId, Username: email, ConfirmationCode: line!.slice(-6) }));
        const tokens = await srpSignIn({ ...cloud.outputs, endpoint: cloud.outputs.endpoints.cognitoIdp }, email, password);
        const Logins = { [loginsKey()]: tokens.idToken };
        const { IdentityId } = await identity().send(new GetIdCommand({ IdentityPoolId: cloud.outputs.identityPoolId, Logins }));
        const { Credentials } = await identity().send(new GetCredentialsForIdentityCommand({ IdentityId, Logins }));
        return { email, tokens, identityId: IdentityId!, credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretKey!, sessionToken: Credentials!.SessionToken! } };
    }

    it("after a global sign-out the old tokens get no credentials, and the refresh token no new tokens", async () => {
        const { tokens, identityId } = await user();
        await idp().send(new GlobalSignOutCommand({ AccessToken: tokens.accessToken }));
        const Logins = { [loginsKey()]: tokens.idToken };
        const revoked = (e: any) => e.name === "NotAuthorizedException";
        await assert.rejects(identity().send(new GetIdCommand({ IdentityPoolId: cloud.outputs.identityPoolId, Logins })), revoked);
        await assert.rejects(identity().send(new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins })), revoked);
        await assert.rejects(
            idp().send(new InitiateAuthCommand({ ClientId: cloud.outputs.userPoolClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: tokens.refreshToken } })),
            revoked,
        );
    });

    it("keeps versions and delete markers in the prod bucket; the admin key lists them, and erases them by version id", async () => {
        const { identityId, credentials } = await user();
        const key = `private/${identityId}/file.txt`;
        await s3(credentials).send(new PutObjectCommand({ Bucket: cloud.outputs.bucketName, Key: key, Body: "one" }));
        await s3(credentials).send(new PutObjectCommand({ Bucket: cloud.outputs.bucketName, Key: key, Body: "two" }));
        await s3(credentials).send(new DeleteObjectCommand({ Bucket: cloud.outputs.bucketName, Key: key }));
        const admin = s3(cloud.adminCredentials);
        assert.equal((await admin.send(new ListObjectsV2Command({ Bucket: cloud.outputs.bucketName, Prefix: `private/${identityId}/` }))).KeyCount, 0);
        const listed = await admin.send(new ListObjectVersionsCommand({ Bucket: cloud.outputs.bucketName, Prefix: `private/${identityId}/` }));
        assert.deepEqual([listed.Versions?.length, listed.DeleteMarkers?.length], [2, 1], "a deleted file stays recoverable in a versioned bucket");
        for (const v of [...listed.Versions!, ...listed.DeleteMarkers!]) await admin.send(new DeleteObjectCommand({ Bucket: cloud.outputs.bucketName, Key: v.Key, VersionId: v.VersionId }));
        const after = await admin.send(new ListObjectVersionsCommand({ Bucket: cloud.outputs.bucketName, Prefix: `private/${identityId}/` }));
        assert.deepEqual([after.Versions ?? [], after.DeleteMarkers ?? []], [[], []]);
    });

    it("after AdminDeleteUser and DeleteIdentities nothing of the user remains in the pools, and the old token gets nothing", async () => {
        const { email, tokens, identityId } = await user();
        assert.equal((await identity().send(new DescribeIdentityCommand({ IdentityId: identityId }))).IdentityId, identityId);
        const listed = await identity().send(new ListIdentitiesCommand({ IdentityPoolId: cloud.outputs.identityPoolId, MaxResults: 60 }));
        assert.ok(listed.Identities?.some((i) => i.IdentityId === identityId));
        await identity().send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [identityId] }));
        await adminIdp().send(new AdminDeleteUserCommand({ UserPoolId: cloud.outputs.userPoolId, Username: email }));
        await assert.rejects(identity().send(new DescribeIdentityCommand({ IdentityId: identityId })), (e: any) => e.name === "ResourceNotFoundException");
        await assert.rejects(identity().send(new GetIdCommand({ IdentityPoolId: cloud.outputs.identityPoolId, Logins: { [loginsKey()]: tokens.idToken } })), (e: any) => e.name === "NotAuthorizedException");
        await assert.rejects(srpSignIn({ ...cloud.outputs, endpoint: cloud.outputs.endpoints.cognitoIdp }, email, "Whatever1!Whatever"), (e: any) => e.name === "NotAuthorizedException");
    });
});
