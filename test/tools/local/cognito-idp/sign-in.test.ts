import {
    AdminCreateUserCommand,
    AdminSetUserMFAPreferenceCommand,
    AdminUserGlobalSignOutCommand,
    AssociateSoftwareTokenCommand,
    CognitoIdentityProviderClient,
    ConfirmForgotPasswordCommand,
    ConfirmSignUpCommand,
    ForgotPasswordCommand,
    GetUserAttributeVerificationCodeCommand,
    GetUserCommand,
    GlobalSignOutCommand,
    InitiateAuthCommand,
    RespondToAuthChallengeCommand,
    RevokeTokenCommand,
    SetUserMFAPreferenceCommand,
    SignUpCommand,
    UpdateUserAttributesCommand,
    VerifySoftwareTokenCommand,
    VerifyUserAttributeCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { AuthenticationDetails, CognitoUser, CognitoUserPool, CognitoUserSession } from "amazon-cognito-identity-js";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { decodeJwt } from "jose";
import { LocalUserPools, startUserPools } from "../../../../tools/local/cognito-idp/user-pools";
import { totpCode } from "../../../../tools/local/cognito-idp/totp";
import { parseCodeLine } from "../../../../tools/local/cognito-idp/account-codes";
import { userPool as provisionUserPool } from "../../../../tools/local/cognito-idp/provision";
import type { LocalServices } from "../../../../tools/local/provisioner";
import { adminCredentials, AdminCredentials, signingKey } from "../../../../tools/local/keys";
import { LocalRegistry } from "../../../../tools/local/registry";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const PASSWORD = "Passw0rd!Passw0rd";

const failure = (type: string, message?: string | RegExp) => (e: any) => {
    assert.equal(e.name ?? e.code, type, e.message);
    if (typeof message === "string") assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
};

describe("local User Pools: sign-in (SRP, TOTP), sign-out and account codes, as Cognito", () => {
    let dir: string;
    let pools: LocalUserPools;
    let admin: AdminCredentials;
    const codes: string[] = [];
    /** A pool as this program declares it: email sign-in, SRP and refresh only, existence errors hidden, email change verified first. */
    let app: { poolId: string; clientId: string };
    /** The same with MFA required (`mfa: required`). */
    let required: { poolId: string; clientId: string };
    /** A pool with MFA off. */
    let off: { poolId: string; clientId: string };

    async function pool(mfa: "OFF" | "OPTIONAL" | "ON"): Promise<{ poolId: string; clientId: string }> {
        const poolId = (await pools.call("CreateUserPool", { PoolName: `p-${mfa}`, UsernameAttributes: ["email"], AutoVerifiedAttributes: ["email"], MfaConfiguration: mfa })).UserPool.Id;
        await pools.call("SetUserPoolMfaConfig", { UserPoolId: poolId, MfaConfiguration: mfa, SoftwareTokenMfaConfiguration: { Enabled: mfa !== "OFF" } });
        await pools.updatePool(poolId, { UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ["email"] } });
        const clientId = (
            await pools.call("CreateUserPoolClient", { UserPoolId: poolId, ClientName: "web", ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], PreventUserExistenceErrors: "ENABLED" })
        ).UserPoolClient.ClientId;
        return { poolId, clientId };
    }

    before(async () => {
        // Amplify warns on every configure that the User Pool endpoint is a custom one: it is, on purpose.
        (await import("aws-amplify/utils")).ConsoleLogger.LOG_LEVEL = "ERROR";
        dir = mkdtempSync(path.join(tmpdir(), "sign-in-"));
        admin = adminCredentials(dir);
        pools = await startUserPools({
            dataDir: dir,
            region: REGION,
            accountId: ACCOUNT,
            signingKey: await signingKey(dir),
            admin,
            registry: new LocalRegistry(REGION, ACCOUNT),
            onCode: (line) => codes.push(line),
            log: () => undefined,
        });
        app = await pool("OPTIONAL");
        required = await pool("ON");
        off = await pool("OFF");
    });

    after(async () => {
        await pools.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const idp = (credentials?: AdminCredentials) => new CognitoIdentityProviderClient({ region: REGION, endpoint: pools.endpoint, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
    const email = () => `u-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    /** The last code printed for `destination` with `purpose`, read from the one console line shape. */
    const codeFor = (purpose: string, destination: string) => {
        const line = codes.filter((l) => l.startsWith(`[cognito] ${purpose} code for `) && l.includes(` (${destination}): `)).at(-1);
        return line?.match(/^\[cognito\] [a-z ]+ code for [0-9a-f-]{36} \([^)]+\): (\d{6})$/)?.[1];
    };

    /** Signs up and confirms with the code the pool printed (which verifies the email). */
    async function confirmedUser(target = app): Promise<string> {
        const username = email();
        await idp().send(new SignUpCommand({ ClientId: target.clientId, Username: username, Password: PASSWORD, UserAttributes: [{ Name: "email", Value: username }] }));
        await idp().send(new ConfirmSignUpCommand({ ClientId: target.clientId, Username: username, ConfirmationCode: codeFor("confirmation", username)! }));
        return username;
    }

    /** amazon-cognito-identity-js's own SRP sign-in: the session, or the error it fails with. */
    function srpSignIn(username: string, password: string, target = app, callbacks: Partial<Parameters<CognitoUser["authenticateUser"]>[1]> = {}): Promise<CognitoUserSession> {
        const userPool = new CognitoUserPool({ UserPoolId: target.poolId, ClientId: target.clientId, endpoint: `${pools.endpoint}/` });
        const user = new CognitoUser({ Username: username, Pool: userPool });
        return new Promise((resolve, reject) => user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), { onSuccess: resolve, onFailure: reject, ...callbacks } as any));
    }

    async function signedIn(target = app): Promise<{ username: string; accessToken: string; refreshToken: string; idToken: string }> {
        const username = await confirmedUser(target);
        const session = await srpSignIn(username, PASSWORD, target);
        return { username, accessToken: session.getAccessToken().getJwtToken(), refreshToken: session.getRefreshToken().getToken(), idToken: session.getIdToken().getJwtToken() };
    }

    async function withTotp(): Promise<{ username: string; secret: string; accessToken: string }> {
        const { username, accessToken } = await signedIn();
        const { SecretCode } = await idp().send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
        await idp().send(new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totpCode(SecretCode!) }));
        await idp().send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }));
        return { username, secret: SecretCode!, accessToken };
    }

    it("provisions the declared pool's MFA setting and email-change setting, on a new pool and again on a restart", async () => {
        const ids = new Map<string, string>();
        const services = { userPools: pools, registry: new LocalRegistry(REGION, ACCOUNT), ids: { get: (urn: string) => ids.get(urn), set: (urn: string, id: string) => ids.set(urn, id) }, notEmulated: () => undefined } as unknown as LocalServices;
        const declared = (inputs: Record<string, unknown>) => ({ type: "aws:cognito/userPool:UserPool", name: "users", urn: "urn:users", id: "", state: { name: "users" }, inputs: { usernameAttributes: ["email"], autoVerifiedAttributes: ["email"], ...inputs } });
        const created = await provisionUserPool(declared({ mfaConfiguration: "ON", softwareTokenMfaConfiguration: { enabled: true }, userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdates: ["email"] } }), services);
        const poolId = created!.id!;
        const options = async () => (await pools.describePool(poolId)) as { MfaConfiguration?: string; SoftwareTokenMfaConfiguration?: { Enabled: boolean }; UserAttributeUpdateSettings?: { AttributesRequireVerificationBeforeUpdate: string[] } };
        assert.deepEqual([(await options()).MfaConfiguration, (await options()).SoftwareTokenMfaConfiguration?.Enabled, (await options()).UserAttributeUpdateSettings?.AttributesRequireVerificationBeforeUpdate], ["ON", true, ["email"]]);
        const again = await provisionUserPool(declared({ mfaConfiguration: "OFF" }), services);
        assert.equal(again!.id, poolId, "the same pool, found again");
        assert.deepEqual([(await options()).MfaConfiguration, (await options()).SoftwareTokenMfaConfiguration?.Enabled, (await options()).UserAttributeUpdateSettings?.AttributesRequireVerificationBeforeUpdate], ["OFF", false, []]);
    });

    describe("USER_SRP_AUTH", () => {
        it("signs in with amazon-cognito-identity-js's SRP: PASSWORD_VERIFIER, then tokens of the user", async () => {
            const username = await confirmedUser();
            const session = await srpSignIn(username, PASSWORD);
            assert.equal(session.getIdToken().decodePayload().email, username);
            assert.equal(session.getIdToken().decodePayload().token_use, "id");
            const user = await idp().send(new GetUserCommand({ AccessToken: session.getAccessToken().getJwtToken() }));
            assert.equal(user.UserAttributes?.find((a) => a.Name === "email")?.Value, username);
        });

        it("signs in with Amplify JS v6's own signIn (USER_SRP_AUTH is its default flow)", async () => {
            const { Amplify } = await import("aws-amplify");
            const auth = await import("aws-amplify/auth");
            const username = await confirmedUser();
            Amplify.configure({ Auth: { Cognito: { userPoolId: app.poolId, userPoolClientId: app.clientId, userPoolEndpoint: pools.endpoint } } });
            const result = await auth.signIn({ username, password: PASSWORD });
            assert.deepEqual(result, { isSignedIn: true, nextStep: { signInStep: "DONE" } });
            assert.equal((await auth.fetchUserAttributes()).email, username);
            await auth.signOut();
        });

        it("fails a wrong password at the verifier step with NotAuthorizedException \"Incorrect username or password.\"", async () => {
            const username = await confirmedUser();
            const started = await idp().send(new InitiateAuthCommand({ ClientId: app.clientId, AuthFlow: "USER_SRP_AUTH", AuthParameters: { USERNAME: username, SRP_A: "abc123" } }));
            assert.equal(started.ChallengeName, "PASSWORD_VERIFIER");
            assert.deepEqual(Object.keys(started.ChallengeParameters!).sort(), ["SALT", "SECRET_BLOCK", "SRP_B", "USERNAME", "USER_ID_FOR_SRP"]);
            assert.notEqual(started.ChallengeParameters!.USER_ID_FOR_SRP, username, "the user name of an email pool is its UUID");
            await assert.rejects(srpSignIn(username, "Wr0ng!Passw0rd"), failure("NotAuthorizedException", "Incorrect username or password."));
            const forged = { USERNAME: started.ChallengeParameters!.USERNAME, PASSWORD_CLAIM_SECRET_BLOCK: started.ChallengeParameters!.SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE: Buffer.alloc(32).toString("base64"), TIMESTAMP: "Mon Dec 7 10:00:00 UTC 2026" };
            await assert.rejects(idp().send(new RespondToAuthChallengeCommand({ ClientId: app.clientId, ChallengeName: "PASSWORD_VERIFIER", Session: started.Session, ChallengeResponses: forged })), failure("NotAuthorizedException", "Incorrect username or password."));
            // The challenge is spent: answering it again is an expired session.
            await assert.rejects(idp().send(new RespondToAuthChallengeCommand({ ClientId: app.clientId, ChallengeName: "PASSWORD_VERIFIER", Session: started.Session, ChallengeResponses: forged })), failure("NotAuthorizedException", /session/));
        });

        it("gives an unknown user a challenge like any other and the same refusal, with existence errors prevented", async () => {
            const nobody = email();
            await assert.rejects(srpSignIn(nobody, PASSWORD), failure("NotAuthorizedException", "Incorrect username or password."));
        });

        it("asks an admin-created user for a new password (NEW_PASSWORD_REQUIRED) after the SRP verifier", async () => {
            const username = email();
            await idp(admin).send(new AdminCreateUserCommand({ UserPoolId: app.poolId, Username: username, TemporaryPassword: "Temp0rary!Passw0rd", MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: username }] }));
            const challenge = await new Promise<string>((resolve, reject) => {
                const userPool = new CognitoUserPool({ UserPoolId: app.poolId, ClientId: app.clientId, endpoint: `${pools.endpoint}/` });
                new CognitoUser({ Username: username, Pool: userPool }).authenticateUser(new AuthenticationDetails({ Username: username, Password: "Temp0rary!Passw0rd" }), {
                    onSuccess: () => reject(new Error("signed in with a temporary password")),
                    onFailure: reject,
                    newPasswordRequired: () => resolve("NEW_PASSWORD_REQUIRED"),
                } as any);
            });
            assert.equal(challenge, "NEW_PASSWORD_REQUIRED");
            await assert.rejects(srpSignIn(username, "Wr0ng!Passw0rd"), failure("NotAuthorizedException", "Incorrect username or password."));
        });

        it("honours the client's ExplicitAuthFlows: USER_PASSWORD_AUTH is refused where only SRP and refresh are allowed", async () => {
            const username = await confirmedUser();
            await assert.rejects(
                idp().send(new InitiateAuthCommand({ ClientId: app.clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD } })),
                failure("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"),
            );
        });
    });

    describe("TOTP (software token MFA)", () => {
        it("sets up TOTP with an access token; the next sign-in asks SOFTWARE_TOKEN_MFA; a wrong code is refused, a fresh one signs in", async () => {
            const { username, secret } = await withTotp();
            const started = new Promise<{ user: CognitoUser }>((resolve, reject) => {
                const userPool = new CognitoUserPool({ UserPoolId: app.poolId, ClientId: app.clientId, endpoint: `${pools.endpoint}/` });
                const user = new CognitoUser({ Username: username, Pool: userPool });
                user.authenticateUser(new AuthenticationDetails({ Username: username, Password: PASSWORD }), {
                    onSuccess: () => reject(new Error("signed in without the second factor")),
                    onFailure: reject,
                    totpRequired: (challenge: string) => (challenge === "SOFTWARE_TOKEN_MFA" ? resolve({ user }) : reject(new Error(challenge))),
                } as any);
            });
            const { user } = await started;
            const send = (code: string) => new Promise<CognitoUserSession>((resolve, reject) => user.sendMFACode(code, { onSuccess: resolve, onFailure: reject }, "SOFTWARE_TOKEN_MFA"));
            const wrong = totpCode(secret, Date.now() + 5 * 60 * 1000);
            await assert.rejects(send(wrong), failure("CodeMismatchException", "Invalid code received for user"));
            const session = await send(totpCode(secret, Date.now() + 30_000));
            assert.equal(session.getIdToken().decodePayload().email, username);
            const preference = await idp().send(new GetUserCommand({ AccessToken: session.getAccessToken().getJwtToken() }));
            assert.deepEqual(preference.UserMFASettingList, ["SOFTWARE_TOKEN_MFA"]);
            assert.equal(preference.PreferredMfaSetting, "SOFTWARE_TOKEN_MFA");
        });

        it("refuses a code used once: ExpiredCodeException \"Your software token has already been used once.\"", async () => {
            const { username, secret } = await withTotp();
            // The code VerifySoftwareToken took is spent for sign-in too.
            const spent = totpCode(secret);
            const auth = await idp().send(new InitiateAuthCommand({ ClientId: app.clientId, AuthFlow: "USER_SRP_AUTH", AuthParameters: { USERNAME: username, SRP_A: "abc123" } }));
            assert.equal(auth.ChallengeName, "PASSWORD_VERIFIER");
            const amplify = await import("aws-amplify/auth");
            const { Amplify } = await import("aws-amplify");
            Amplify.configure({ Auth: { Cognito: { userPoolId: app.poolId, userPoolClientId: app.clientId, userPoolEndpoint: pools.endpoint } } });
            const step = await amplify.signIn({ username, password: PASSWORD });
            assert.equal(step.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_TOTP_CODE");
            await assert.rejects(amplify.confirmSignIn({ challengeResponse: spent }), failure("ExpiredCodeException", "Your software token has already been used once."));
            const done = await amplify.confirmSignIn({ challengeResponse: totpCode(secret, Date.now() + 30_000) });
            assert.equal(done.isSignedIn, true);
            await amplify.signOut();
        });

        it("with MFA required, a user without TOTP gets MFA_SETUP: Amplify's setup during sign-in (CONTINUE_SIGN_IN_WITH_TOTP_SETUP) works", async () => {
            const { Amplify } = await import("aws-amplify");
            const auth = await import("aws-amplify/auth");
            const username = await confirmedUser(required);
            Amplify.configure({ Auth: { Cognito: { userPoolId: required.poolId, userPoolClientId: required.clientId, userPoolEndpoint: pools.endpoint } } });
            const step = await auth.signIn({ username, password: PASSWORD });
            assert.equal(step.nextStep.signInStep, "CONTINUE_SIGN_IN_WITH_TOTP_SETUP");
            const details = (step.nextStep as { totpSetupDetails: { sharedSecret: string; getSetupUri(app: string): URL } }).totpSetupDetails;
            assert.match(details.sharedSecret, /^[A-Z2-7]{32}$/);
            assert.match(details.getSetupUri("notes").toString(), /^otpauth:\/\/totp\/notes:.+\?secret=[A-Z2-7]{32}&issuer=notes$/);
            await assert.rejects(auth.confirmSignIn({ challengeResponse: totpCode(details.sharedSecret, Date.now() + 5 * 60 * 1000) }), failure("EnableSoftwareTokenMFAException"));
            const done = await auth.confirmSignIn({ challengeResponse: totpCode(details.sharedSecret) });
            assert.deepEqual(done, { isSignedIn: true, nextStep: { signInStep: "DONE" } });
            assert.deepEqual(await auth.fetchMFAPreference(), { preferred: "TOTP", enabled: ["TOTP"] });
            await auth.signOut();
            // From now on the user signs in with a code.
            const again = await auth.signIn({ username, password: PASSWORD });
            assert.equal(again.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_TOTP_CODE");
        });

        it("with MFA off, TOTP is never asked; SetUserMFAPreference refuses TOTP before a token is verified", async () => {
            const { accessToken } = await signedIn();
            await assert.rejects(idp().send(new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true } })), failure("InvalidParameterException", "User has not set up software token mfa"));
            const offUser = await signedIn(off);
            await assert.rejects(idp().send(new AssociateSoftwareTokenCommand({ AccessToken: offUser.accessToken })), failure("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool."));
            const session = await srpSignIn(offUser.username, PASSWORD, off);
            assert.ok(session.getIdToken().getJwtToken());
        });

        it("an admin turns a user's TOTP off (AdminSetUserMFAPreference): the next sign-in needs the password only", async () => {
            const { username } = await withTotp();
            await idp(admin).send(new AdminSetUserMFAPreferenceCommand({ UserPoolId: app.poolId, Username: username, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false } }));
            const session = await srpSignIn(username, PASSWORD);
            assert.equal(session.getIdToken().decodePayload().email, username);
        });
    });

    describe("sessions: refresh, revocation, global sign-out", () => {
        it("refreshes tokens while the session lives; GlobalSignOut revokes the access token and refuses the refresh token", async () => {
            const { accessToken, refreshToken } = await signedIn();
            const refreshed = await idp().send(new InitiateAuthCommand({ ClientId: app.clientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: refreshToken } }));
            assert.equal(decodeJwt(refreshed.AuthenticationResult!.AccessToken!).origin_jti, decodeJwt(accessToken).origin_jti, "a refresh keeps the session");
            await idp().send(new GlobalSignOutCommand({ AccessToken: accessToken }));
            await assert.rejects(idp().send(new GetUserCommand({ AccessToken: refreshed.AuthenticationResult!.AccessToken! })), failure("NotAuthorizedException", "Access Token has been revoked"));
            await assert.rejects(
                idp().send(new InitiateAuthCommand({ ClientId: app.clientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: refreshToken } })),
                failure("NotAuthorizedException", "Refresh Token has been revoked"),
            );
        });

        it("AdminUserGlobalSignOut ends every session of the user; RevokeToken ends one", async () => {
            const first = await signedIn();
            const second = await srpSignIn(first.username, PASSWORD);
            await idp().send(new RevokeTokenCommand({ ClientId: app.clientId, Token: first.refreshToken }));
            await assert.rejects(idp().send(new GetUserCommand({ AccessToken: first.accessToken })), failure("NotAuthorizedException", "Access Token has been revoked"));
            await idp().send(new GetUserCommand({ AccessToken: second.getAccessToken().getJwtToken() }));
            assert.equal(await pools.sessionActive(decodeJwt(second.getIdToken().getJwtToken())), true);
            await idp(admin).send(new AdminUserGlobalSignOutCommand({ UserPoolId: app.poolId, Username: first.username }));
            await assert.rejects(idp().send(new GetUserCommand({ AccessToken: second.getAccessToken().getJwtToken() })), failure("NotAuthorizedException", "Access Token has been revoked"));
            assert.equal(await pools.sessionActive(decodeJwt(second.getIdToken().getJwtToken())), false);
        });
    });

    describe("codes: password reset and email change", () => {
        it("reads a code line back into its parts (parseCodeLine), and nothing else", () => {
            assert.deepEqual(parseCodeLine("[cognito] password reset code for 3556793f-3623-459d-8996-88c416c0fe1d (a@example.com): 012345"), {
                purpose: "password reset",
                username: "3556793f-3623-459d-8996-88c416c0fe1d",
                destination: "a@example.com",
                code: "012345",
            });
            assert.equal(parseCodeLine("[cognito] login code for x (a@example.com): 012345"), undefined);
            assert.equal(parseCodeLine("READY in 3 s"), undefined);
        });

        it("prints every code in one line shape: [cognito] <purpose> code for <username> (<destination>): <code>", async () => {
            const { username, accessToken } = await signedIn();
            await idp().send(new ForgotPasswordCommand({ ClientId: app.clientId, Username: username }));
            const next = email();
            await idp().send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: [{ Name: "email", Value: next }] }));
            const sub = decodeJwt(accessToken).sub;
            for (const [purpose, destination] of [["confirmation", username], ["password reset", username], ["email verification", next]]) {
                const line = codes.find((l) => l.includes(`(${destination}): `) && l.includes(` ${purpose} code `));
                assert.match(line ?? "", new RegExp(`^\\[cognito\\] ${purpose} code for ${sub} \\(${destination.replace(/[.]/g, "\\.")}\\): \\d{6}$`));
            }
        });

        it("resets a forgotten password with the code; wrong codes are CodeMismatchException, and the fifth spends the code (LimitExceededException)", async () => {
            const username = await confirmedUser();
            const sent = await idp().send(new ForgotPasswordCommand({ ClientId: app.clientId, Username: username }));
            assert.deepEqual(sent.CodeDeliveryDetails, { AttributeName: "email", DeliveryMedium: "EMAIL", Destination: username });
            const code = codeFor("password reset", username)!;
            const wrong = code === "000000" ? "111111" : "000000";
            const confirm = (ConfirmationCode: string, Password = "N3w!Passw0rd") => idp().send(new ConfirmForgotPasswordCommand({ ClientId: app.clientId, Username: username, ConfirmationCode, Password }));
            await assert.rejects(confirm(wrong), failure("CodeMismatchException", "Invalid verification code provided, please try again."));
            await assert.rejects(confirm(code, "weak"), failure("InvalidPasswordException", /^Password does not conform to policy/));
            await confirm(code);
            await assert.rejects(srpSignIn(username, PASSWORD), failure("NotAuthorizedException", "Incorrect username or password."));
            await srpSignIn(username, "N3w!Passw0rd");

            await idp().send(new ForgotPasswordCommand({ ClientId: app.clientId, Username: username }));
            const again = codeFor("password reset", username)!;
            const other = again === "000000" ? "111111" : "000000";
            for (let attempt = 1; attempt <= 4; attempt++) await assert.rejects(confirm(other), failure("CodeMismatchException"));
            await assert.rejects(confirm(other), failure("LimitExceededException", "Attempt limit exceeded, please try after some time."));
            await assert.rejects(confirm(again), failure("LimitExceededException"), "a spent code stays spent");
        });

        it("changes the email only once the new address is verified; an address in use is AliasExistsException", async () => {
            const { username, accessToken } = await signedIn();
            const taken = await confirmedUser();
            await assert.rejects(idp().send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: [{ Name: "email", Value: taken }] })), failure("AliasExistsException", "An account with the given email already exists."));
            const next = email();
            const update = await idp().send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: [{ Name: "email", Value: next }] }));
            assert.deepEqual(update.CodeDeliveryDetailsList, [{ AttributeName: "email", DeliveryMedium: "EMAIL", Destination: next }]);
            const attributes = async () => Object.fromEntries((await idp().send(new GetUserCommand({ AccessToken: accessToken }))).UserAttributes!.map((a) => [a.Name, a.Value]));
            assert.equal((await attributes()).email, username, "the old address stays until the new one is verified");
            await srpSignIn(username, PASSWORD);
            const first = codeFor("email verification", next)!;
            await idp().send(new GetUserAttributeVerificationCodeCommand({ AccessToken: accessToken, AttributeName: "email" }));
            const code = codeFor("email verification", next)!;
            if (first !== code) await assert.rejects(idp().send(new VerifyUserAttributeCommand({ AccessToken: accessToken, AttributeName: "email", Code: first })), failure("CodeMismatchException"));
            await idp().send(new VerifyUserAttributeCommand({ AccessToken: accessToken, AttributeName: "email", Code: code }));
            assert.deepEqual([(await attributes()).email, (await attributes()).email_verified], [next, "true"]);
            await srpSignIn(next, PASSWORD);
            await assert.rejects(srpSignIn(username, PASSWORD), failure("NotAuthorizedException", "Incorrect username or password."));
        });
    });
});
