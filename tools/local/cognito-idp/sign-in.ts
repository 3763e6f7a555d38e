import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { decodeJwt } from "jose";
import { CognitoIdpError } from "./rules";
import { srpChallenge, SrpState, verifyPasswordClaim } from "./srp";
import type { TokenSessions } from "./token-sessions";
import { newTotpSecret, totpStep } from "./totp";

/** The three tokens of a sign-in. */
export interface Tokens {
    AccessToken: string;
    IdToken: string;
    RefreshToken: string;
}

/** What sign-in needs from the User Pools (cognito-local's services and the pools' own key). */
export interface SignInServices {
    /** cognito-local's `CognitoService`: pools, clients, users. */
    cognito: any;
    clock: { get(): Date };
    /** Mints the three tokens of a session for `user` (claims by cognito-local, signed with the data directory's key). */
    mint(user: any, client: any, originJti: string, source: "Authentication" | "RefreshTokens"): Promise<Tokens>;
    /** Verifies a refresh token's signature, issuer and expiry; its claims, or undefined. */
    verifyRefreshToken(token: string): Promise<Record<string, unknown> | undefined>;
    sessions: TokenSessions;
}

/** How long a challenge's `Session` lasts: Cognito's default `AuthSessionValidity`, 3 minutes. */
const CHALLENGE_SESSION_MS = 3 * 60 * 1000;
/** Wrong answers to one MFA challenge before its session ends. */
const MAX_CHALLENGE_ATTEMPTS = 5;

const INCORRECT = () => new CognitoIdpError("NotAuthorizedException", "Incorrect username or password.");
const INVALID_SESSION = () => new CognitoIdpError("NotAuthorizedException", "Invalid session for the user, session is expired.");
const missing = (name: string) => new CognitoIdpError("InvalidParameterException", `Missing required parameter ${name}`);

type ChallengeName = "PASSWORD_VERIFIER" | "SOFTWARE_TOKEN_MFA" | "MFA_SETUP";

/** A challenge in progress: what `Session` stands for. */
interface Challenge {
    name: ChallengeName;
    userPoolId: string;
    clientId: string;
    /** The user's user name; for a simulated challenge (an unknown user, existence errors prevented), what was typed. */
    username: string;
    /** An unknown user's simulated challenge: it always ends in "Incorrect username or password." */
    simulated?: boolean;
    srp?: SrpState;
    /** MFA_SETUP: the secret AssociateSoftwareToken gave, and whether VerifySoftwareToken accepted a code of it. */
    secret?: string;
    verifiedStep?: number;
    expires: number;
    attempts: number;
}

/** The auth flows a client allows (`ExplicitAuthFlows`), as Cognito reads legacy values and an empty list. */
export function allowedAuthFlows(explicit: string[] | undefined): Set<string> {
    const defaults = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"];
    if (!explicit?.length) return new Set(defaults);
    if (explicit.some((flow) => flow.startsWith("ALLOW_"))) return new Set(explicit);
    const legacy: Record<string, string> = { ADMIN_NO_SRP_AUTH: "ALLOW_ADMIN_USER_PASSWORD_AUTH", CUSTOM_AUTH_FLOW_ONLY: "ALLOW_CUSTOM_AUTH", USER_PASSWORD_AUTH: "ALLOW_USER_PASSWORD_AUTH" };
    return new Set([...defaults, ...explicit.map((flow) => legacy[flow] ?? flow)]);
}

const FLOW_SETTING: Record<string, string> = {
    USER_SRP_AUTH: "ALLOW_USER_SRP_AUTH",
    USER_PASSWORD_AUTH: "ALLOW_USER_PASSWORD_AUTH",
    REFRESH_TOKEN_AUTH: "ALLOW_REFRESH_TOKEN_AUTH",
    REFRESH_TOKEN: "ALLOW_REFRESH_TOKEN_AUTH",
};

const sameText = (a: string, b: string) => {
    const x = Buffer.from(a, "utf8");
    const y = Buffer.from(b, "utf8");
    return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Cognito's sign-in, where cognito-local has none or a partial one:
 * - `InitiateAuth` with `USER_SRP_AUTH` (then the `PASSWORD_VERIFIER` challenge, `srp.ts`),
 *   `USER_PASSWORD_AUTH` and `REFRESH_TOKEN_AUTH`, each only when the app client's
 *   `ExplicitAuthFlows` allows it;
 * - the pool's MFA setting (`OFF`, `OPTIONAL`, `ON`) after the password: a user with TOTP gets
 *   `SOFTWARE_TOKEN_MFA`; with `ON`, a user without gets `MFA_SETUP`, which Amplify answers with
 *   `AssociateSoftwareToken` and `VerifySoftwareToken` on the challenge's `Session`, then
 *   `RespondToAuthChallenge` `MFA_SETUP`;
 * - TOTP setup with an access token (`AssociateSoftwareToken`, `VerifySoftwareToken`), and
 *   `SetUserMFAPreference` / `AdminSetUserMFAPreference`;
 * - sessions: every sign-in's tokens carry an `origin_jti`; `RevokeToken`, `GlobalSignOut`,
 *   `AdminUserGlobalSignOut` and deleting the user end them (`token-sessions.ts`).
 */
export function signIn(services: SignInServices, ctx: unknown) {
    const { cognito, sessions } = services;
    const challenges = new Map<string, Challenge>();

    function open(challenge: Omit<Challenge, "expires" | "attempts">, previous?: string): string {
        if (previous) challenges.delete(previous);
        for (const [id, entry] of challenges) if (entry.expires < Date.now()) challenges.delete(id);
        const id = randomBytes(96).toString("base64");
        challenges.set(id, { ...challenge, expires: Date.now() + CHALLENGE_SESSION_MS, attempts: 0 });
        return id;
    }

    function challengeOf(session: unknown, name: ChallengeName, clientId?: unknown): Challenge {
        const challenge = typeof session === "string" ? challenges.get(session) : undefined;
        if (!challenge || challenge.expires < Date.now() || challenge.name !== name || (clientId !== undefined && challenge.clientId !== clientId)) throw INVALID_SESSION();
        return challenge;
    }

    async function appClient(clientId: unknown): Promise<{ client: any; pool: any }> {
        const client = await cognito.getAppClient(ctx, clientId);
        if (!client) throw new CognitoIdpError("ResourceNotFoundException", `User pool client ${String(clientId)} does not exist.`);
        return { client, pool: await cognito.getUserPool(ctx, client.UserPoolId) };
    }

    /** The user an access token names (the front has verified its signature and session). */
    async function userOfAccessToken(token: string): Promise<{ user: any; pool: any }> {
        const claims = decodeJwt(token);
        const pool = await cognito.getUserPoolForClientId(ctx, claims.client_id);
        const user = await pool.getUserByUsername(ctx, claims.username);
        if (!user) throw new CognitoIdpError("NotAuthorizedException", "User does not exist.");
        return { user, pool };
    }

    async function userByAdmin(input: Record<string, any>): Promise<{ user: any; pool: any }> {
        const pool = await cognito.getUserPool(ctx, input.UserPoolId);
        const user = typeof input.Username === "string" ? await pool.getUserByUsername(ctx, input.Username) : undefined;
        if (!user) throw new CognitoIdpError("UserNotFoundException", "User does not exist.");
        return { user, pool };
    }

    function usable(user: any): void {
        if (user.Enabled === false) throw new CognitoIdpError("NotAuthorizedException", "User is disabled.");
        if (user.UserStatus === "UNCONFIRMED") throw new CognitoIdpError("UserNotConfirmedException", "User is not confirmed.");
        if (user.UserStatus === "RESET_REQUIRED") throw new CognitoIdpError("PasswordResetRequiredException", "Password reset required for the user");
    }

    const hasTotp = (user: any) => Boolean(user.SoftwareTokenMfaConfiguration?.Verified) && (user.UserMFASettingList ?? []).includes("SOFTWARE_TOKEN_MFA");
    const poolTotpEnabled = (pool: any) => pool.options.SoftwareTokenMfaConfiguration?.Enabled === true;

    async function issue(user: any, pool: any, client: any): Promise<Record<string, unknown>> {
        const originJti = randomUUID();
        const tokens = await services.mint(user, client, originJti, "Authentication");
        sessions.add(pool.options.Id, user.Username, originJti);
        const claims = decodeJwt(tokens.AccessToken);
        return { ChallengeParameters: {}, AuthenticationResult: { ...tokens, TokenType: "Bearer", ExpiresIn: Number(claims.exp) - Number(claims.iat) } };
    }

    /** After the password: the MFA the pool and the user call for, or the tokens. */
    async function afterPassword(user: any, pool: any, client: any, previous?: string): Promise<Record<string, unknown>> {
        if (user.UserStatus === "FORCE_CHANGE_PASSWORD") {
            // An admin-created user sets a password first; cognito-local answers NEW_PASSWORD_REQUIRED.
            if (previous) challenges.delete(previous);
            const attributes = Object.fromEntries((user.Attributes ?? []).filter((a: { Name: string }) => a.Name !== "sub").map((a: { Name: string; Value: string }) => [a.Name, a.Value]));
            return { ChallengeName: "NEW_PASSWORD_REQUIRED", ChallengeParameters: { USER_ID_FOR_SRP: user.Username, requiredAttributes: "[]", userAttributes: JSON.stringify(attributes) }, Session: randomUUID() };
        }
        const mfa = pool.options.MfaConfiguration ?? "OFF";
        const base = { userPoolId: pool.options.Id, clientId: client.ClientId, username: user.Username };
        if (mfa !== "OFF" && hasTotp(user)) {
            const Session = open({ name: "SOFTWARE_TOKEN_MFA", ...base }, previous);
            const device = user.SoftwareTokenMfaConfiguration?.FriendlyDeviceName;
            return { ChallengeName: "SOFTWARE_TOKEN_MFA", ChallengeParameters: { USER_ID_FOR_SRP: user.Username, ...(device ? { FRIENDLY_DEVICE_NAME: device } : {}) }, Session };
        }
        if (mfa === "ON") {
            const Session = open({ name: "MFA_SETUP", ...base }, previous);
            return { ChallengeName: "MFA_SETUP", ChallengeParameters: { MFAS_CAN_SETUP: JSON.stringify(poolTotpEnabled(pool) ? ["SOFTWARE_TOKEN_MFA"] : []), USER_ID_FOR_SRP: user.Username }, Session };
        }
        if (previous) challenges.delete(previous);
        return issue(user, pool, client);
    }

    async function hidesUsers(client: any): Promise<boolean> {
        return client.PreventUserExistenceErrors === "ENABLED";
    }

    async function initiateAuth(input: Record<string, any>): Promise<unknown> {
        const { client, pool } = await appClient(input.ClientId);
        const flow = input.AuthFlow;
        if (!allowedAuthFlows(client.ExplicitAuthFlows).has(FLOW_SETTING[flow])) throw new CognitoIdpError("InvalidParameterException", `${flow} flow not enabled for this client`);
        const parameters: Record<string, string> = input.AuthParameters ?? {};
        if (flow === "REFRESH_TOKEN_AUTH" || flow === "REFRESH_TOKEN") return refresh(parameters.REFRESH_TOKEN, pool, client);
        if (typeof parameters.USERNAME !== "string") throw missing("USERNAME");
        const user = await pool.getUserByUsername(ctx, parameters.USERNAME);
        if (flow === "USER_SRP_AUTH") {
            if (typeof parameters.SRP_A !== "string") throw missing("SRP_A");
            if (!user && !(await hidesUsers(client))) throw new CognitoIdpError("UserNotFoundException", "User does not exist.");
            if (user) usable(user);
            // An unknown user gets a challenge that looks like any other and fails at the verifier step.
            const userIdForSrp = user ? user.Username : parameters.USERNAME;
            const challenge = srpChallenge({ userPoolId: pool.options.Id, userIdForSrp, password: user ? user.Password : randomUUID(), srpA: parameters.SRP_A });
            if (!challenge) throw new CognitoIdpError("InvalidParameterException", "SRP_A is not a valid SRP value.");
            const Session = open({ name: "PASSWORD_VERIFIER", userPoolId: pool.options.Id, clientId: client.ClientId, username: userIdForSrp, simulated: !user, srp: challenge.state });
            return { ChallengeName: "PASSWORD_VERIFIER", ChallengeParameters: challenge.parameters, Session };
        }
        // USER_PASSWORD_AUTH
        if (typeof parameters.PASSWORD !== "string") throw missing("PASSWORD");
        if (!user) throw (await hidesUsers(client)) ? INCORRECT() : new CognitoIdpError("UserNotFoundException", "User does not exist.");
        usable(user);
        if (!sameText(String(user.Password), parameters.PASSWORD)) throw INCORRECT();
        return afterPassword(user, pool, client);
    }

    async function refresh(token: unknown, pool: any, client: any): Promise<unknown> {
        if (typeof token !== "string") throw missing("REFRESH_TOKEN");
        const claims = await services.verifyRefreshToken(token);
        if (!claims || claims.client_id !== client.ClientId) throw new CognitoIdpError("NotAuthorizedException", "Invalid Refresh Token");
        const user = await pool.getUserByUsername(ctx, claims["cognito:username"]);
        if (!user || !sessions.has(pool.options.Id, user.Username, claims.origin_jti)) throw new CognitoIdpError("NotAuthorizedException", "Refresh Token has been revoked");
        if (user.Enabled === false) throw new CognitoIdpError("NotAuthorizedException", "User is disabled.");
        const { AccessToken, IdToken } = await services.mint(user, client, String(claims.origin_jti), "RefreshTokens");
        const access = decodeJwt(AccessToken);
        return { ChallengeParameters: {}, AuthenticationResult: { AccessToken, IdToken, TokenType: "Bearer", ExpiresIn: Number(access.exp) - Number(access.iat) } };
    }

    /** The challenge's user, who must be the one `USERNAME` names when the client sends it. */
    async function challengeUser(challenge: Challenge, pool: any, username: unknown): Promise<any> {
        const user = await pool.getUserByUsername(ctx, challenge.username);
        if (!user) throw INVALID_SESSION();
        if (typeof username === "string" && (await pool.getUserByUsername(ctx, username))?.Username !== user.Username) throw INVALID_SESSION();
        return user;
    }

    /** A TOTP code for `secret`, not used before (steps after `lastStep`); the step it matched. */
    function acceptCode(secret: string, code: unknown, lastStep: number | undefined, wrong: () => CognitoIdpError): number {
        const step = typeof code === "string" ? totpStep(secret, code) : undefined;
        if (step === undefined) throw wrong();
        if (lastStep !== undefined && step <= lastStep) throw new CognitoIdpError("ExpiredCodeException", "Your software token has already been used once.");
        return step;
    }

    function countFailure(session: string, challenge: Challenge, error: CognitoIdpError): CognitoIdpError {
        if (error.type !== "CodeMismatchException" && error.type !== "EnableSoftwareTokenMFAException") return error;
        challenge.attempts += 1;
        if (challenge.attempts >= MAX_CHALLENGE_ATTEMPTS) {
            challenges.delete(session);
            return new CognitoIdpError("NotAuthorizedException", "Invalid session for the user, too many failed attempts.");
        }
        return error;
    }

    async function respondToAuthChallenge(input: Record<string, any>): Promise<unknown> {
        const { client, pool } = await appClient(input.ClientId);
        const responses: Record<string, string> = input.ChallengeResponses ?? {};
        switch (input.ChallengeName) {
            case "PASSWORD_VERIFIER": {
                const challenge = challengeOf(input.Session, "PASSWORD_VERIFIER", client.ClientId);
                // One answer per challenge, as Cognito: a second try starts over with InitiateAuth.
                challenges.delete(input.Session);
                if (challenge.simulated || !verifyPasswordClaim(pool.options.Id, challenge.srp!, responses)) throw INCORRECT();
                const user = await challengeUser(challenge, pool, responses.USERNAME);
                usable(user);
                return afterPassword(user, pool, client);
            }
            case "SOFTWARE_TOKEN_MFA": {
                const challenge = challengeOf(input.Session, "SOFTWARE_TOKEN_MFA", client.ClientId);
                const user = await challengeUser(challenge, pool, responses.USERNAME);
                try {
                    const step = acceptCode(user.SoftwareTokenMfaConfiguration?.Secret ?? "", responses.SOFTWARE_TOKEN_MFA_CODE, user.LastTotpStep, () => new CognitoIdpError("CodeMismatchException", "Invalid code received for user"));
                    await pool.saveUser(ctx, { ...user, LastTotpStep: step, UserLastModifiedDate: services.clock.get() });
                } catch (error) {
                    throw error instanceof CognitoIdpError ? countFailure(input.Session, challenge, error) : error;
                }
                challenges.delete(input.Session);
                return issue(user, pool, client);
            }
            case "MFA_SETUP": {
                const challenge = challengeOf(input.Session, "MFA_SETUP", client.ClientId);
                const user = await challengeUser(challenge, pool, responses.USERNAME);
                if (challenge.verifiedStep === undefined || !challenge.secret) throw new CognitoIdpError("InvalidParameterException", "Verify a software token (VerifySoftwareToken with this Session) before answering MFA_SETUP.");
                const updated = {
                    ...user,
                    SoftwareTokenMfaConfiguration: { Secret: challenge.secret, Verified: true },
                    UserMFASettingList: [...new Set([...(user.UserMFASettingList ?? []), "SOFTWARE_TOKEN_MFA"])],
                    PreferredMfaSetting: "SOFTWARE_TOKEN_MFA",
                    LastTotpStep: challenge.verifiedStep,
                    UserLastModifiedDate: services.clock.get(),
                };
                await pool.saveUser(ctx, updated);
                challenges.delete(input.Session);
                return issue(updated, pool, client);
            }
        }
        return undefined;
    }

    async function associateSoftwareToken(input: Record<string, any>): Promise<unknown> {
        if ((input.AccessToken === undefined) === (input.Session === undefined)) throw new CognitoIdpError("InvalidParameterException", "Exactly one of AccessToken and Session is required.");
        const SecretCode = newTotpSecret();
        if (input.Session !== undefined) {
            const challenge = challengeOf(input.Session, "MFA_SETUP");
            const pool = await cognito.getUserPool(ctx, challenge.userPoolId);
            if (!poolTotpEnabled(pool)) throw new CognitoIdpError("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool.");
            const Session = open({ ...challenge, secret: SecretCode, verifiedStep: undefined }, input.Session);
            return { SecretCode, Session };
        }
        const { user, pool } = await userOfAccessToken(input.AccessToken);
        if (!poolTotpEnabled(pool)) throw new CognitoIdpError("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool.");
        // The new secret waits for VerifySoftwareToken; a verified one stays in use until then.
        await pool.saveUser(ctx, { ...user, PendingSoftwareToken: SecretCode });
        return { SecretCode };
    }

    async function verifySoftwareToken(input: Record<string, any>): Promise<unknown> {
        if ((input.AccessToken === undefined) === (input.Session === undefined)) throw new CognitoIdpError("InvalidParameterException", "Exactly one of AccessToken and Session is required.");
        const mismatch = () => new CognitoIdpError("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA");
        if (input.Session !== undefined) {
            const challenge = challengeOf(input.Session, "MFA_SETUP");
            if (!challenge.secret) throw new CognitoIdpError("InvalidParameterException", "Call AssociateSoftwareToken with this Session first.");
            let step: number;
            try {
                step = acceptCode(challenge.secret, input.UserCode, challenge.verifiedStep, mismatch);
            } catch (error) {
                throw error instanceof CognitoIdpError ? countFailure(input.Session, challenge, error) : error;
            }
            const Session = open({ ...challenge, verifiedStep: step }, input.Session);
            return { Status: "SUCCESS", Session };
        }
        const { user, pool } = await userOfAccessToken(input.AccessToken);
        const secret = user.PendingSoftwareToken;
        if (!secret) throw new CognitoIdpError("InvalidParameterException", "User has not associated a software token (AssociateSoftwareToken).");
        const step = acceptCode(secret, input.UserCode, undefined, mismatch);
        await pool.saveUser(ctx, {
            ...user,
            PendingSoftwareToken: undefined,
            SoftwareTokenMfaConfiguration: { Secret: secret, Verified: true, ...(typeof input.FriendlyDeviceName === "string" ? { FriendlyDeviceName: input.FriendlyDeviceName } : {}) },
            LastTotpStep: step,
            UserLastModifiedDate: services.clock.get(),
        });
        return { Status: "SUCCESS" };
    }

    /** SetUserMFAPreference and AdminSetUserMFAPreference: TOTP on or off, preferred or not (SMS and email MFA are not emulated). */
    async function setMfaPreference(user: any, pool: any, input: Record<string, any>): Promise<unknown> {
        for (const name of ["SMSMfaSettings", "EmailMfaSettings"]) {
            if (input[name]?.Enabled === true || input[name]?.PreferredMfa === true) throw new CognitoIdpError("InvalidParameterException", `${name}: the local User Pools emulate software token MFA only.`);
        }
        const settings = input.SoftwareTokenMfaSettings;
        if (settings === undefined || settings === null) return {};
        if (typeof settings !== "object" || Array.isArray(settings) || ["Enabled", "PreferredMfa"].some((key) => settings[key] !== undefined && typeof settings[key] !== "boolean")) {
            throw new CognitoIdpError("SerializationException", "SoftwareTokenMfaSettings is not of the expected type.");
        }
        const methods = new Set<string>(user.UserMFASettingList ?? []);
        let preferred = user.PreferredMfaSetting as string | undefined;
        if (settings.Enabled === true || settings.PreferredMfa === true) {
            if (!user.SoftwareTokenMfaConfiguration?.Verified) throw new CognitoIdpError("InvalidParameterException", "User has not set up software token mfa");
            methods.add("SOFTWARE_TOKEN_MFA");
            if (settings.PreferredMfa === true) preferred = "SOFTWARE_TOKEN_MFA";
        }
        if (settings.Enabled === false) methods.delete("SOFTWARE_TOKEN_MFA");
        if (settings.Enabled === false || settings.PreferredMfa === false) preferred = preferred === "SOFTWARE_TOKEN_MFA" ? undefined : preferred;
        await pool.saveUser(ctx, { ...user, UserMFASettingList: [...methods], PreferredMfaSetting: preferred, UserLastModifiedDate: services.clock.get() });
        return {};
    }

    async function endSessions(pool: any, user: any): Promise<void> {
        sessions.endAll(pool.options.Id, user.Username);
        await pool.saveUser(ctx, { ...user, RefreshTokens: [] });
    }

    return {
        /** Runs `operation` when sign-in owns it; undefined lets cognito-local run it. */
        async run(operation: string, input: Record<string, any>, fallback: () => Promise<unknown>): Promise<{ output: unknown } | undefined> {
            switch (operation) {
                case "InitiateAuth":
                    return FLOW_SETTING[input.AuthFlow] ? { output: await initiateAuth(input) } : undefined;
                case "RespondToAuthChallenge": {
                    const output = await respondToAuthChallenge(input);
                    return output === undefined ? undefined : { output };
                }
                case "AssociateSoftwareToken":
                    return { output: await associateSoftwareToken(input) };
                case "VerifySoftwareToken":
                    return { output: await verifySoftwareToken(input) };
                case "SetUserMFAPreference": {
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    return { output: await setMfaPreference(user, pool, input) };
                }
                case "AdminSetUserMFAPreference": {
                    const { user, pool } = await userByAdmin(input);
                    return { output: await setMfaPreference(user, pool, input) };
                }
                case "GlobalSignOut": {
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    await endSessions(pool, user);
                    return { output: {} };
                }
                case "AdminUserGlobalSignOut": {
                    const { user, pool } = await userByAdmin(input);
                    await endSessions(pool, user);
                    return { output: {} };
                }
                case "RevokeToken": {
                    const { client, pool } = await appClient(input.ClientId);
                    const claims = await services.verifyRefreshToken(String(input.Token));
                    if (!claims) throw new CognitoIdpError("UnsupportedTokenTypeException", "The token is not a refresh token of this user pool.");
                    if (claims.client_id !== client.ClientId) throw new CognitoIdpError("UnauthorizedException", "The refresh token was not issued to this client.");
                    const user = await pool.getUserByUsername(ctx, claims["cognito:username"]);
                    if (user) sessions.end(pool.options.Id, user.Username, String(claims.origin_jti));
                    return { output: {} };
                }
                case "DeleteUser": {
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    const output = await fallback();
                    sessions.endAll(pool.options.Id, user.Username);
                    return { output };
                }
                case "AdminDeleteUser": {
                    const { user, pool } = await userByAdmin(input);
                    const output = await fallback();
                    sessions.endAll(pool.options.Id, user.Username);
                    return { output };
                }
            }
            return undefined;
        },
    };
}
