import {
    CognitoIdentityClient,
    DeleteIdentitiesCommand,
    DescribeIdentityCommand,
    GetCredentialsForIdentityCommand,
    GetIdCommand,
    ListIdentitiesCommand,
} from "@aws-sdk/client-cognito-identity";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { importJWK, SignJWT } from "jose";
import { LocalIdentityService } from "../../../../tools/local/cognito-identity/identity-pools";
import { adminCredentials, AdminCredentials, signingKey, SigningKeyPair } from "../../../../tools/local/keys";
import { LocalRegistry } from "../../../../tools/local/registry";
import { CredentialStore } from "../../../../tools/local/sts/credentials";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const ISSUER = "http://127.0.0.1:9999";
const USER_POOL = "us-east-1_AbCdEfGhI";
const CLIENT_ID = "4f2b6k9q1m3n5p7r8s0t2v4w6x";
const PROVIDER = `cognito-idp.${REGION}.amazonaws.com/${USER_POOL}`;
const POOL_ID = `${REGION}:0f6f1a7e-1b2c-4d3e-8f9a-0b1c2d3e4f5a`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/authenticated`;
const ERASER_ARN = `arn:aws:iam::${ACCOUNT}:role/eraser`;
const TRUST = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Federated: "cognito-identity.amazonaws.com" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "cognito-identity.amazonaws.com:aud": POOL_ID }, "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" } },
        },
    ],
});

describe("local identity service: ServerSideTokenCheck, and DeleteIdentities, DescribeIdentity, ListIdentities for the admin and IAM", () => {
    let dir: string;
    let key: SigningKeyPair;
    let admin: AdminCredentials;
    let store: CredentialStore;
    let service: LocalIdentityService;
    let endpoint: string;
    /** Sessions the fake User Pool has ended (by `origin_jti`). */
    const ended = new Set<string>();

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "identity-admin-"));
        key = await signingKey(dir);
        admin = adminCredentials(dir);
        store = new CredentialStore();
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("authenticated", { name: "authenticated", arn: ROLE_ARN, assumeRolePolicy: TRUST });
        registry.roles.set("eraser", { name: "eraser", arn: ERASER_ARN, assumeRolePolicy: "{}" });
        // DeleteIdentities has no resource type in the Service Authorization Reference: only "*" grants it.
        registry.inlinePolicies.set(
            "eraser",
            new Map([["erase", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "cognito-identity:DeleteIdentities", Resource: "*" }] })]]),
        );
        service = new LocalIdentityService({
            region: REGION,
            accountId: ACCOUNT,
            store,
            registry,
            userPoolIssuer: ISSUER,
            signingKey: key.publicJwk as Record<string, unknown>,
            admin,
            sessionActive: async (claims) => !ended.has(String(claims.origin_jti)),
        });
        service.putPool({ id: POOL_ID, name: "notes", allowUnauthenticatedIdentities: false, providers: [{ providerName: PROVIDER, clientId: CLIENT_ID, serverSideTokenCheck: true }], roles: {} });
        service.setRoles(POOL_ID, { authenticated: ROLE_ARN });
        endpoint = `http://127.0.0.1:${await service.listen(0)}`;
    });

    after(async () => {
        await service.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = { accessKeyId: "x", secretAccessKey: "x" }) =>
        new CognitoIdentityClient({ region: REGION, endpoint, maxAttempts: 1, credentials });
    let n = 0;
    async function idToken(originJti: string): Promise<string> {
        const signer = await importJWK(key.privateJwk as Parameters<typeof importJWK>[0], "RS256");
        return new SignJWT({ token_use: "id", origin_jti: originJti })
            .setProtectedHeader({ alg: "RS256", kid: key.kid })
            .setSubject(`5e6f7a8b-0000-4000-8000-${String(++n).padStart(12, "0")}`)
            .setIssuer(`${ISSUER}/${USER_POOL}`)
            .setAudience(CLIENT_ID)
            .setIssuedAt()
            .setExpirationTime("1h")
            .sign(signer);
    }
    async function identityOf(token: string): Promise<string> {
        return (await client().send(new GetIdCommand({ IdentityPoolId: POOL_ID, Logins: { [PROVIDER]: token } }))).IdentityId!;
    }

    it("gives a token whose sign-in session ended (global sign-out, deletion) no identity and no credentials", async () => {
        const token = await idToken("session-a");
        const IdentityId = await identityOf(token);
        await client().send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: token } }));
        ended.add("session-a");
        const revoked = (e: any) => e.name === "NotAuthorizedException" && e.message === "Invalid login token. Token has been revoked.";
        await assert.rejects(client().send(new GetIdCommand({ IdentityPoolId: POOL_ID, Logins: { [PROVIDER]: token } })), revoked);
        await assert.rejects(client().send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: token } })), revoked);
    });

    it("lets the admin key describe, list and delete identities; a deleted identity gets no credentials", async () => {
        const token = await idToken("session-b");
        const IdentityId = await identityOf(token);
        const described = await client(admin).send(new DescribeIdentityCommand({ IdentityId }));
        assert.equal(described.IdentityId, IdentityId);
        assert.deepEqual(described.Logins, [PROVIDER]);
        assert.ok(described.CreationDate instanceof Date);
        const listed: string[] = [];
        let NextToken: string | undefined;
        do {
            const page = await client(admin).send(new ListIdentitiesCommand({ IdentityPoolId: POOL_ID, MaxResults: 1, NextToken }));
            listed.push(...page.Identities!.map((i) => i.IdentityId!));
            NextToken = page.NextToken;
        } while (NextToken);
        assert.ok(listed.includes(IdentityId) && listed.length >= 2, listed.join());
        assert.deepEqual((await client(admin).send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [IdentityId] }))).UnprocessedIdentityIds, []);
        await assert.rejects(client(admin).send(new DescribeIdentityCommand({ IdentityId })), (e: any) => e.name === "ResourceNotFoundException");
        await assert.rejects(client().send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: token } })), (e: any) => e.name === "ResourceNotFoundException");
        // Deleting it again changes nothing and succeeds.
        assert.deepEqual((await client(admin).send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [IdentityId] }))).UnprocessedIdentityIds, []);
        assert.ok(!(await client(admin).send(new ListIdentitiesCommand({ IdentityPoolId: POOL_ID, MaxResults: 60 }))).Identities!.some((i) => i.IdentityId === IdentityId));
    });

    it("decides an issued session's call with its role's policies, and refuses unsigned and unknown keys", async () => {
        const IdentityId = await identityOf(await idToken("session-c"));
        const user = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: IdentityId });
        const asUser = client({ accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, sessionToken: user.sessionToken });
        await assert.rejects(asUser.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [IdentityId] })), (e: any) => e.name === "AccessDeniedException" && /cognito-identity:DeleteIdentities/.test(e.message));
        await assert.rejects(client().send(new ListIdentitiesCommand({ IdentityPoolId: POOL_ID, MaxResults: 5 })), (e: any) => e.name === "UnrecognizedClientException");
        const unsigned = await fetch(`${endpoint}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityService.DescribeIdentity" }, body: JSON.stringify({ IdentityId }) });
        assert.equal(((await unsigned.json()) as { __type: string }).__type, "MissingAuthenticationTokenException");
        const eraser = store.mint({ roleArn: ERASER_ARN, sessionName: "account" });
        const asEraser = client({ accessKeyId: eraser.accessKeyId, secretAccessKey: eraser.secretAccessKey, sessionToken: eraser.sessionToken });
        await assert.rejects(asEraser.send(new DescribeIdentityCommand({ IdentityId })), (e: any) => e.name === "AccessDeniedException");
        await asEraser.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [IdentityId] }));
        await assert.rejects(client(admin).send(new DescribeIdentityCommand({ IdentityId })), (e: any) => e.name === "ResourceNotFoundException");
    });

    it("validates DeleteIdentities and ListIdentities as the service does", async () => {
        await assert.rejects(client(admin).send(new ListIdentitiesCommand({ IdentityPoolId: POOL_ID, MaxResults: 0 })), (e: any) => e.name === "ValidationException");
        await assert.rejects(client(admin).send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [] })), (e: any) => e.name === "ValidationException");
    });
});
