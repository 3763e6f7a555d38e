import {
    AdminConfirmSignUpCommand,
    AdminGetUserCommand,
    AdminUpdateUserAttributesCommand,
    ChangePasswordCommand,
    CognitoIdentityProviderClient,
    ConfirmForgotPasswordCommand,
    ConfirmSignUpCommand,
    CreateUserPoolClientCommand,
    CreateUserPoolCommand,
    ForgotPasswordCommand,
    GetUserCommand,
    InitiateAuthCommand,
    ListUsersCommand,
    ResendConfirmationCodeCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from "jose";
import { LocalUserPools, startUserPools } from "../../../../tools/local/cognito-idp/user-pools";
import { passwordPolicyFailure } from "../../../../tools/local/cognito-idp/rules";
import { CredentialStore } from "../../../../tools/local/sts/credentials";
import { adminCredentials, AdminCredentials, signingKey, SigningKeyPair } from "../../../../tools/local/keys";
import { LocalRegistry } from "../../../../tools/local/registry";

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

    describe("what a person meets signing up and in, answered as Cognito answers", () => {
        /** A client of the same pool with PreventUserExistenceErrors ENABLED, as this program's app client. */
        let guardedClientId: string;
        /** A pool whose policy is not the default one: 10 characters, no symbols required. */
        let relaxedClientId: string;
        const password = "Passw0rd!Passw0rd";
        const failure = (type: string, message?: string | RegExp) => (e: any) => {
            assert.equal(e.name, type, e.message);
            if (typeof message === "string") assert.equal(e.message, message);
            else if (message) assert.match(e.message, message);
            return true;
        };
        const codeFor = (username: string) => codes.filter((line) => line.includes(`(${username}): `)).at(-1)?.match(/: (\d{6})$/)?.[1];
        const signUp = (username: string, pass = password, client = clientId) =>
            idp().send(new SignUpCommand({ ClientId: client, Username: username, Password: pass, UserAttributes: [{ Name: "email", Value: username }] }));
        const signIn = (username: string, pass: string, client = clientId) =>
            idp().send(new InitiateAuthCommand({ ClientId: client, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: pass } }));

        before(async () => {
            guardedClientId = (await pools.call("CreateUserPoolClient", { UserPoolId: poolId, ClientName: "guarded", ExplicitAuthFlows: ["USER_PASSWORD_AUTH"], PreventUserExistenceErrors: "ENABLED" })).UserPoolClient.ClientId;
            const relaxed = (await pools.call("CreateUserPool", {
                PoolName: "relaxed",
                UsernameAttributes: ["email"],
                AutoVerifiedAttributes: ["email"],
                Policies: { PasswordPolicy: { MinimumLength: 10, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: false } },
            })).UserPool.Id;
            relaxedClientId = (await pools.call("CreateUserPoolClient", { UserPoolId: relaxed, ClientName: "app" })).UserPoolClient.ClientId;
        });

        it("names the first rule a password breaks, in Cognito's order and words", () => {
            const strict = { MinimumLength: 8, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true };
            const cases: [string, string | undefined][] = [
                ["Ab1!", "Password not long enough"],
                ["12341234", "Password must have lowercase characters"],
                ["password", "Password must have uppercase characters"],
                ["TestTest", "Password must have numeric characters"],
                ["Passw0rdPassw0rd", "Password must have symbol characters"],
                ["Passw0rd Passw0rd", undefined],
                ["Passw0rd=Passw0rd", undefined],
                ["Pässw0rd€Pässw0rd", "Password must have symbol characters"],
            ];
            for (const [candidate, expected] of cases) assert.equal(passwordPolicyFailure(strict, candidate), expected, candidate);
            assert.equal(passwordPolicyFailure({ MinimumLength: 6 }, "abcdef"), undefined, "only the rules the policy sets");
        });

        it("SignUp refuses a password the pool's policy does not allow (InvalidPasswordException), and creates no user", async () => {
            const username = email();
            await assert.rejects(signUp(username, "password"), failure("InvalidPasswordException", "Password did not conform with policy: Password must have uppercase characters"));
            await assert.rejects(signUp(username, "Passw0rd"), failure("InvalidPasswordException", "Password did not conform with policy: Password must have symbol characters"));
            await assert.rejects(signUp(username, "Sh0rt!"), failure("InvalidPasswordException", "Password did not conform with policy: Password not long enough"));
            await assert.rejects(idp(admin).send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username })), failure("UserNotFoundException"));
            assert.equal(codeFor(username), undefined, "a code was sent for a refused sign-up");
            // Each pool's own policy: 10 characters, no symbol needed.
            await assert.rejects(signUp(email(), "Passw0rd!", relaxedClientId), failure("InvalidPasswordException", "Password did not conform with policy: Password not long enough"));
            await signUp(email(), "Passw0rdXY", relaxedClientId);
        });

        it("SignUp with an email that has an account: UsernameExistsException with Cognito's message", async () => {
            const username = email();
            await signUp(username);
            await assert.rejects(signUp(username), failure("UsernameExistsException", "An account with the given email already exists."));
        });

        it("ChangePassword and ConfirmForgotPassword hold the new password to the policy; a wrong old password is NotAuthorizedException", async () => {
            const { username, accessToken } = await signedIn();
            await assert.rejects(idp().send(new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: password, ProposedPassword: "short" })), failure("InvalidPasswordException", "Password does not conform to policy: Password not long enough"));
            await assert.rejects(idp().send(new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: "Wr0ng!Passw0rd", ProposedPassword: "N3w!Passw0rd" })), failure("NotAuthorizedException", "Incorrect username or password."));
            // AdminConfirmSignUp verifies no address; a reset code goes only to a verified one.
            await assert.rejects(idp().send(new ForgotPasswordCommand({ ClientId: clientId, Username: username })), failure("InvalidParameterException", "Cannot reset password for the user as there is no registered/verified email or phone_number"));
            await idp(admin).send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: username, UserAttributes: [{ Name: "email", Value: username }, { Name: "email_verified", Value: "true" }] }));
            await idp().send(new ForgotPasswordCommand({ ClientId: clientId, Username: username }));
            const code = codeFor(username)!;
            await assert.rejects(
                idp().send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: username, ConfirmationCode: code, Password: "nouppercase1!" })),
                failure("InvalidPasswordException", "Password does not conform to policy: Password must have uppercase characters"),
            );
            await signIn(username, password);
        });

        it("a wrong password at sign-in: NotAuthorizedException \"Incorrect username or password.\"", async () => {
            const { username } = await signedIn();
            for (const client of [clientId, guardedClientId]) await assert.rejects(signIn(username, "Wr0ng!Passw0rd", client), failure("NotAuthorizedException", "Incorrect username or password."));
        });

        it("a user that does not exist: the same answer with PreventUserExistenceErrors ENABLED, UserNotFoundException without", async () => {
            const nobody = email();
            await assert.rejects(signIn(nobody, password, guardedClientId), failure("NotAuthorizedException", "Incorrect username or password."));
            await assert.rejects(signIn(nobody, password, clientId), failure("UserNotFoundException", "User does not exist."));
            for (const command of [new ResendConfirmationCodeCommand({ ClientId: guardedClientId, Username: nobody }), new ForgotPasswordCommand({ ClientId: guardedClientId, Username: nobody })]) {
                const answer = await idp().send(command as any);
                assert.deepEqual((answer as any).CodeDeliveryDetails, { AttributeName: "email", DeliveryMedium: "EMAIL", Destination: nobody });
            }
            assert.equal(codeFor(nobody), undefined, "a code was sent to nobody");
            await assert.rejects(idp().send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: nobody })), failure("UserNotFoundException", "Username/client id combination not found."));
            await assert.rejects(idp().send(new ConfirmSignUpCommand({ ClientId: guardedClientId, Username: nobody, ConfirmationCode: "123456" })), failure("CodeMismatchException"));
        });

        it("an unconfirmed user's sign-in: UserNotConfirmedException whatever the password", async () => {
            const username = email();
            await signUp(username);
            for (const attempt of [password, "Wr0ng!Passw0rd"]) await assert.rejects(signIn(username, attempt, guardedClientId), failure("UserNotConfirmedException", "User is not confirmed."));
        });

        it("ResendConfirmationCode sends a new code: it confirms the account, the first one no longer does", async () => {
            const username = email();
            await signUp(username);
            const first = codeFor(username)!;
            const resent = await idp().send(new ResendConfirmationCodeCommand({ ClientId: guardedClientId, Username: username }));
            assert.deepEqual(resent.CodeDeliveryDetails, { AttributeName: "email", DeliveryMedium: "EMAIL", Destination: username });
            const second = codeFor(username)!;
            assert.match(second, /^\d{6}$/);
            if (second !== first) {
                await assert.rejects(idp().send(new ConfirmSignUpCommand({ ClientId: clientId, Username: username, ConfirmationCode: first })), failure("CodeMismatchException", "Invalid verification code provided, please try again."));
            }
            await idp().send(new ConfirmSignUpCommand({ ClientId: clientId, Username: username, ConfirmationCode: second }));
            await signIn(username, password);
            await assert.rejects(idp().send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: username })), failure("InvalidParameterException", "User is already confirmed."));
        });

        it("ConfirmSignUp: a wrong code and a second confirmation get Cognito's errors", async () => {
            const username = email();
            await signUp(username);
            const code = codeFor(username)!;
            const wrong = code === "000000" ? "111111" : "000000";
            await assert.rejects(idp().send(new ConfirmSignUpCommand({ ClientId: clientId, Username: username, ConfirmationCode: wrong })), failure("CodeMismatchException", "Invalid verification code provided, please try again."));
            await idp().send(new ConfirmSignUpCommand({ ClientId: clientId, Username: username, ConfirmationCode: code }));
            await assert.rejects(idp().send(new ConfirmSignUpCommand({ ClientId: clientId, Username: username, ConfirmationCode: code })), failure("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"));
        });
    });

    it("creates pools and clients over HTTP for the admin, as the SDK calls them", async () => {
        const pool = await idp(admin).send(new CreateUserPoolCommand({ PoolName: "second" }));
        const created = await idp(admin).send(new CreateUserPoolClientCommand({ UserPoolId: pool.UserPool!.Id!, ClientName: "c" }));
        assert.ok(created.UserPoolClient?.ClientId);
    });
});
