import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { importJWK, SignJWT } from "jose";
import { CredentialStore } from "../../../../tools/local/sts/credentials";
import { LocalIdentityService } from "../../../../tools/local/cognito-identity/identity-pools";
import { signingKey, SigningKeyPair } from "../../../../tools/local/keys";
import { LocalRegistry } from "../../../../tools/local/registry";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const ISSUER = "http://127.0.0.1:9999";
const USER_POOL = "us-east-1_AbCdEfGhI";
const CLIENT_ID = "4f2b6k9q1m3n5p7r8s0t2v4w6x";
const PROVIDER = `cognito-idp.${REGION}.amazonaws.com/${USER_POOL}`;
const POOL_ID = `${REGION}:0f6f1a7e-1b2c-4d3e-8f9a-0b1c2d3e4f5a`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/notes-auth-authenticated`;

function trustPolicy(poolId: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: "cognito-identity.amazonaws.com" },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: { "cognito-identity.amazonaws.com:aud": poolId },
                    "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
                },
            },
        ],
    });
}

const keyDir = mkdtempSync(path.join(tmpdir(), "identity-key-"));
let KEY: SigningKeyPair;

/** An id token as the local User Pools issue it, signed with the data directory's key (or another), with claims a test overrides. */
async function token(claims: Record<string, unknown> = {}, expiresIn = "1h", privateJwk: Record<string, unknown> = KEY.privateJwk as Record<string, unknown>): Promise<string> {
    const key = await importJWK(privateJwk as Parameters<typeof importJWK>[0], "RS256");
    return new SignJWT({ token_use: "id", email: "a@example.com", ...claims })
        .setProtectedHeader({ alg: "RS256", kid: String(privateJwk.kid ?? "CognitoLocal") })
        .setSubject(String(claims.sub ?? "5e6f7a8b-0000-4000-8000-000000000001"))
        .setIssuer(String(claims.iss ?? `${ISSUER}/${USER_POOL}`))
        .setAudience(String(claims.aud ?? CLIENT_ID))
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key);
}

describe("local identity service (GetId, GetCredentialsForIdentity)", () => {
    let service: LocalIdentityService;
    let store: CredentialStore;
    let registry: LocalRegistry;
    let client: CognitoIdentityClient;

    let port: number;

    before(async () => {
        KEY = await signingKey(keyDir);
        store = new CredentialStore();
        registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("notes-auth-authenticated", { name: "notes-auth-authenticated", arn: ROLE_ARN, assumeRolePolicy: trustPolicy(POOL_ID) });
        registry.apis.set("api", { id: "api", name: "api", cors: { allowOrigins: ["http://localhost:5173"] }, routes: new Map(), integrations: new Map(), stages: new Set() });
        service = new LocalIdentityService({ region: REGION, accountId: ACCOUNT, store, registry, userPoolIssuer: ISSUER, signingKey: KEY.publicJwk as Record<string, unknown> });
        service.putPool({ id: POOL_ID, name: "notes", allowUnauthenticatedIdentities: false, providers: [{ providerName: PROVIDER, clientId: CLIENT_ID }], roles: {} });
        service.setRoles(POOL_ID, { authenticated: ROLE_ARN });
        port = await service.listen(0);
        client = new CognitoIdentityClient({ region: REGION, endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
    });

    after(async () => {
        await service.close();
        rmSync(keyDir, { recursive: true, force: true });
    });

    const getId = async (idToken: string, provider = PROVIDER) => client.send(new GetIdCommand({ IdentityPoolId: POOL_ID, Logins: { [provider]: idToken } }));
    const notAuthorized = (pattern: RegExp) => (error: any) => error.name === "NotAuthorizedException" && pattern.test(error.message);

    it("issues one stable <region>:<uuid> identity per user and another for another user", async () => {
        const first = await getId(await token());
        const again = await getId(await token());
        const other = await getId(await token({ sub: "5e6f7a8b-0000-4000-8000-000000000002" }));
        assert.match(first.IdentityId!, /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(again.IdentityId, first.IdentityId);
        assert.notEqual(other.IdentityId, first.IdentityId);
    });

    it("issues STS-shaped credentials that expire in an hour, bound to the identity and the authenticated role", async () => {
        const idToken = await token();
        const { IdentityId } = await getId(idToken);
        const { Credentials } = await client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: idToken } }));
        assert.match(Credentials!.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
        assert.equal(Credentials!.SecretKey!.length, 40);
        const minutes = (Credentials!.Expiration!.getTime() - Date.now()) / 60000;
        assert.ok(minutes > 59 && minutes <= 60, `expires in ${minutes} min`);
        const session = store.get(Credentials!.AccessKeyId!)!;
        assert.equal(session.identityId, IdentityId);
        assert.equal(session.roleArn, ROLE_ARN);
        assert.equal(session.principalArn, `arn:aws:sts::${ACCOUNT}:assumed-role/notes-auth-authenticated/CognitoIdentityCredentials`);
        assert.deepEqual(session.amr?.slice(0, 2), ["authenticated", PROVIDER]);
    });

    it("refuses expired tokens, access tokens, other issuers, other clients and bad signatures", async () => {
        await assert.rejects(getId(await token({}, "-1m")), notAuthorized(/Token expired/));
        await assert.rejects(getId(await token({ token_use: "access" })), notAuthorized(/Not a valid OpenId Connect identity token/));
        await assert.rejects(getId(await token({ iss: `${ISSUER}/us-east-1_Other0000` })), notAuthorized(/Issuer doesn't match providerName/));
        await assert.rejects(getId(await token({ aud: "someotherappclient000000" })), notAuthorized(/Invalid login token/));
        const good = await token();
        await assert.rejects(getId(`${good.slice(0, -6)}AAAAAA`), notAuthorized(/Couldn't verify signed token/));
        await assert.rejects(getId(good, `cognito-idp.${REGION}.amazonaws.com/us-east-1_Other0000`), notAuthorized(/not from a supported provider/));
    });

    it("accepts the login key Amplify builds from the token's issuer (iss without its scheme) as the same login", async () => {
        const issuerKey = `${ISSUER.replace(/^http:\/\//, "")}/${USER_POOL}`;
        const idToken = await token({ sub: "5e6f7a8b-0000-4000-8000-0000000000a1" });
        const { IdentityId } = await getId(idToken, issuerKey);
        assert.equal((await getId(idToken, PROVIDER)).IdentityId, IdentityId, "the two keys of one login gave two identities");
        const { Credentials } = await client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [issuerKey]: idToken } }));
        // amr names the provider as the pool declares it, whichever key the client sent.
        assert.deepEqual(store.get(Credentials!.AccessKeyId!)!.amr?.slice(0, 2), ["authenticated", PROVIDER]);
    });

    it("refuses a login key that is not the token's issuer without its scheme, or names no provider of the pool", async () => {
        const idToken = await token();
        const issuerHost = ISSUER.replace(/^http:\/\//, "");
        for (const key of [`${ISSUER}/${USER_POOL}`, `127.0.0.1:9998/${USER_POOL}`, `localhost:9999/${USER_POOL}`, `${issuerHost}/${USER_POOL}/`, `${issuerHost}/us-east-1_Other0000`, USER_POOL]) {
            await assert.rejects(getId(idToken, key), notAuthorized(/not from a supported provider/), key);
        }
        // The issuer key of this pool with a token another pool issued: the issuer must match too.
        await assert.rejects(getId(await token({ iss: `${ISSUER}/us-east-1_Other0000` }), `${issuerHost}/${USER_POOL}`), notAuthorized(/Issuer doesn't match providerName/));
    });

    it("answers an unknown identity pool with ResourceNotFoundException", async () => {
        await assert.rejects(
            client.send(new GetIdCommand({ IdentityPoolId: `${REGION}:00000000-0000-4000-8000-000000000000`, Logins: { [PROVIDER]: await token() } })),
            (error: any) => error.name === "ResourceNotFoundException",
        );
    });

    it("refuses credentials for a login that is not the identity's", async () => {
        const { IdentityId } = await getId(await token());
        const intruder = await token({ sub: "5e6f7a8b-0000-4000-8000-00000000beef" });
        await getId(intruder);
        await assert.rejects(
            client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: intruder } })),
            notAuthorized(/does not belong to this identity/),
        );
    });

    it("refuses credentials when the role's trust policy does not admit this identity pool", async () => {
        registry.roles.set("notes-auth-authenticated", { name: "notes-auth-authenticated", arn: ROLE_ARN, assumeRolePolicy: trustPolicy(`${REGION}:11111111-2222-4333-8444-555555555555`) });
        try {
            const idToken = await token();
            const { IdentityId } = await getId(idToken);
            await assert.rejects(
                client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: idToken } })),
                (error: any) => error.name === "InvalidIdentityPoolConfigurationException",
            );
        } finally {
            registry.roles.set("notes-auth-authenticated", { name: "notes-auth-authenticated", arn: ROLE_ARN, assumeRolePolicy: trustPolicy(POOL_ID) });
        }
    });

    it("refuses a token minted with the private key published in the cognito-local package", async () => {
        const published = require("cognito-local/lib/keys/cognitoLocal.private.json").jwk;
        await assert.rejects(getId(await token({}, "1h", { ...published, kid: "CognitoLocal" })), notAuthorized(/Couldn't verify signed token/));
    });

    it("answers CORS for the stack's origins only, and refuses a Host that is not loopback", async () => {
        const preflight = (origin: string) => fetch(`http://127.0.0.1:${port}/`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-amz-target" } });
        const own = await preflight("http://localhost:5173");
        assert.equal(own.headers.get("access-control-allow-origin"), "http://localhost:5173");
        const foreign = await preflight("https://evil.example");
        assert.equal(foreign.headers.get("access-control-allow-origin"), null);
        const rebound = await new Promise<{ status: number; text: string }>((resolve, reject) => {
            const request = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { host: "attacker.example", "x-amz-target": "AWSCognitoIdentityService.GetId", "content-type": "application/x-amz-json-1.1" } }, (response) => {
                let text = "";
                response.on("data", (chunk) => (text += chunk));
                response.on("end", () => resolve({ status: response.statusCode!, text }));
            });
            request.on("error", reject);
            request.end("{}");
        });
        assert.equal(rebound.status, 403);
        assert.equal(JSON.parse(rebound.text).__type, "AccessDeniedException");
    });

    it("answers malformed JSON and wrongly typed members with 400 SerializationException", async () => {
        const post = (body: string) =>
            fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers: { "x-amz-target": "AWSCognitoIdentityService.GetId", "content-type": "application/x-amz-json-1.1" }, body });
        for (const body of ["{", "[]", "null", '"x"', JSON.stringify({ IdentityPoolId: 5 }), JSON.stringify({ IdentityPoolId: POOL_ID, Logins: { [PROVIDER]: 7 } })]) {
            const response = await post(body);
            assert.equal(response.status, 400, body);
            assert.equal(((await response.json()) as { __type: string }).__type, "SerializationException", body);
        }
    });
});
