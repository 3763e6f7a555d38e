import {
    AdminConfirmSignUpCommand,
    AdminGetUserCommand,
    CognitoIdentityProviderClient,
    CreateUserPoolClientCommand,
    CreateUserPoolCommand,
    GetUserCommand,
    InitiateAuthCommand,
    ListUsersCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from "jose";
import { LocalUserPools, startUserPools } from "../../local/cognito";
import { CredentialStore } from "../../local/credentials";
import { adminCredentials, AdminCredentials, signingKey, SigningKeyPair } from "../../local/keys";
import { LocalRegistry } from "../../local/registry";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const ORIGIN = "http://localhost:5173";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/authenticated`;

describe("local User Pools (cognito-local behind the local front)", () => {
    let dir: string;
    let pools: LocalUserPools;
    let key: SigningKeyPair;
    let admin: AdminCredentials;
    let store: CredentialStore;
    let poolId: string;
    let clientId: string;
    const codes: string[] = [];

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "userpools-"));
        key = await signingKey(dir);
        admin = adminCredentials(dir);
        store = new CredentialStore();
        const registry = new LocalRegistry(REGION, ACCOUNT);
        registry.roles.set("authenticated", { name: "authenticated", arn: ROLE_ARN, assumeRolePolicy: "{}" });
        registry.inlinePolicies.set("authenticated", new Map([["none", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] })]]));
        registry.bucketCors.set("b", [{ allowedOrigins: [ORIGIN], allowedMethods: ["GET"] }]);
        pools = await startUserPools({ dataDir: dir, region: REGION, accountId: ACCOUNT, signingKey: key, admin, store, registry, onCode: (line) => codes.push(line), log: () => undefined });
        poolId = (await pools.call("CreateUserPool", { PoolName: "test", UsernameAttributes: ["email"], AutoVerifiedAttributes: ["email"] })).UserPool.Id;
        clientId = (await pools.call("CreateUserPoolClient", { UserPoolId: poolId, ClientName: "app", ExplicitAuthFlows: ["USER_PASSWORD_AUTH"] })).UserPoolClient.ClientId;
    });

    after(async () => {
        await pools.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const idp = (credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
        new CognitoIdentityProviderClient({ region: REGION, endpoint: pools.endpoint, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
    const email = () => `u-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

    async function signedIn(): Promise<{ username: string; idToken: string; accessToken: string }> {
        const username = email();
        await idp().send(new SignUpCommand({ ClientId: clientId, Username: username, Password: "Passw0rd!Passw0rd", UserAttributes: [{ Name: "email", Value: username }] }));
        await idp(admin).send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: username }));
        const auth = await idp().send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: "Passw0rd!Passw0rd" } }));
        return { username, idToken: auth.AuthenticationResult!.IdToken!, accessToken: auth.AuthenticationResult!.AccessToken! };
    }

    it("signs tokens with the data directory's key and serves its public half from the pool's JWKS", async () => {
        const { idToken, accessToken } = await signedIn();
        const jwks = (await (await fetch(`${pools.endpoint}/${poolId}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
        assert.deepEqual(jwks.keys, [key.publicJwk]);
        assert.equal(jwks.keys[0].d, undefined, "no private part in the JWKS");
        assert.equal(decodeProtectedHeader(idToken).kid, key.kid);
        const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks as any), { issuer: `${pools.endpoint}/${poolId}`, audience: clientId });
        assert.equal(payload.token_use, "id");
        await jwtVerify(accessToken, createLocalJWKSet(jwks as any), { issuer: `${pools.endpoint}/${poolId}` });
        const published = await importJWK(require("cognito-local/lib/keys/cognitoLocal.public.json").jwk, "RS256");
        await assert.rejects(jwtVerify(idToken, published), "the package's key does not verify local tokens");
        const missing = await fetch(`${pools.endpoint}/local_doesnotexist/.well-known/jwks.json`);
        assert.equal(missing.status, 404);
    });

    it("prints the sign-up confirmation code on the console", async () => {
        const username = email();
        await idp().send(new SignUpCommand({ ClientId: clientId, Username: username, Password: "Passw0rd!Passw0rd", UserAttributes: [{ Name: "email", Value: username }] }));
        assert.ok(codes.some((line) => line.startsWith("[cognito] confirmation code for ") && line.includes(`(${username}): `) && /: \d{6}$/.test(line)), codes.join("\n"));
    });

    it("refuses every IAM-authorized action unsigned or signed with an unknown key, and runs it signed with the admin key", async () => {
        const { username } = await signedIn();
        for (const command of [new ListUsersCommand({ UserPoolId: poolId }), new AdminGetUserCommand({ UserPoolId: poolId, Username: username }), new CreateUserPoolCommand({ PoolName: "x" })]) {
            await assert.rejects(idp({ accessKeyId: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x".repeat(40) }).send(command as any), (e: any) => e.name === "UnrecognizedClientException" && e.$metadata.httpStatusCode === 400);
            await assert.rejects(idp({ ...admin, secretAccessKey: "y".repeat(40) }).send(command as any), (e: any) => e.name === "InvalidSignatureException");
        }
        const unsigned = await fetch(`${pools.endpoint}/`, {
            method: "POST",
            headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.AdminConfirmSignUp" },
            body: JSON.stringify({ UserPoolId: poolId, Username: username }),
        });
        assert.equal(unsigned.status, 400);
        assert.equal(((await unsigned.json()) as { __type: string }).__type, "MissingAuthenticationTokenException");
        const listed = await idp(admin).send(new ListUsersCommand({ UserPoolId: poolId }));
        assert.ok(listed.Users?.some((u) => u.Attributes?.some((a) => a.Value === username)));
    });

    it("decides an issued session's admin call with its role's policies", async () => {
        const session = store.mint({ roleArn: ROLE_ARN, sessionName: "CognitoIdentityCredentials", identityId: `${REGION}:11111111-1111-4111-a111-111111111111` });
        await assert.rejects(
            idp({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken }).send(new ListUsersCommand({ UserPoolId: poolId })),
            (e: any) => e.name === "AccessDeniedException" && /cognito-idp:ListUsers/.test(e.message),
        );
    });

    it("verifies an access token before an operation that takes one: forged, unsigned and id tokens are refused", async () => {
        const { accessToken, idToken, username } = await signedIn();
        const user = await idp().send(new GetUserCommand({ AccessToken: accessToken }));
        assert.equal(user.UserAttributes?.find((a) => a.Name === "email")?.Value, username);
        const claims = JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString("utf8"));
        const published = await importJWK(require("cognito-local/lib/keys/cognitoLocal.private.json").jwk, "RS256");
        const forged = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "CognitoLocal" }).sign(published);
        const unsignedToken = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${accessToken.split(".")[1]}.`;
        for (const AccessToken of [forged, unsignedToken, idToken, "garbage"]) {
            await assert.rejects(idp().send(new GetUserCommand({ AccessToken })), (e: any) => e.name === "NotAuthorizedException", AccessToken.slice(0, 20));
        }
    });

    it("answers malformed and wrongly typed requests with 400 in the service's JSON format", async () => {
        const post = (target: string, body: string) => fetch(`${pools.endpoint}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target }, body });
        const cases: [string, string, string][] = [
            ["AWSCognitoIdentityProviderService.SignUp", "{", "SerializationException"],
            ["AWSCognitoIdentityProviderService.SignUp", "[1]", "SerializationException"],
            ["AWSCognitoIdentityProviderService.SignUp", JSON.stringify({ ClientId: clientId, Username: 5, Password: "x" }), "SerializationException"],
            ["AWSCognitoIdentityProviderService.SignUp", JSON.stringify({ ClientId: clientId }), "InvalidParameterException"],
            ["AWSCognitoIdentityProviderService.InitiateAuth", JSON.stringify({ ClientId: clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: ["x"] } }), "SerializationException"],
            ["AWSCognitoIdentityProviderService.NoSuchThing", "{}", "UnknownOperationException"],
            ["Other.SignUp", "{}", "UnknownOperationException"],
        ];
        for (const [target, body, type] of cases) {
            const response = await post(target, body);
            assert.equal(response.status, 400, `${target} ${body}`);
            assert.equal(((await response.json()) as { __type: string }).__type, type, `${target} ${body}`);
        }
    });

    it("answers CORS for the stack's origins only, and refuses a Host that is not loopback", async () => {
        const preflight = (origin: string) => fetch(`${pools.endpoint}/`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-amz-target,x-amz-user-agent" } });
        assert.equal((await preflight(ORIGIN)).headers.get("access-control-allow-origin"), ORIGIN);
        assert.equal((await preflight("https://evil.example")).headers.get("access-control-allow-origin"), null);
        const url = new URL(pools.endpoint);
        const status = await new Promise<number>((resolve, reject) => {
            const request = httpRequest({ host: url.hostname, port: url.port, method: "GET", path: `/${poolId}/.well-known/jwks.json`, headers: { host: "rebound.example" } }, (response) => {
                response.resume();
                resolve(response.statusCode!);
            });
            request.on("error", reject);
            request.end();
        });
        assert.equal(status, 403);
    });

    it("creates pools and clients over HTTP for the admin, as the SDK calls them", async () => {
        const pool = await idp(admin).send(new CreateUserPoolCommand({ PoolName: "second" }));
        const created = await idp(admin).send(new CreateUserPoolClientCommand({ UserPoolId: pool.UserPool!.Id!, ClientName: "c" }));
        assert.ok(created.UserPoolClient?.ClientId);
    });
});
