import { decodeJwt } from "jose";
import { CognitoIdpError } from "./rules";

/** What a code is for, as the console line names it: `[cognito] <purpose> code for <username> (<destination>): <code>`. */
export type CodePurpose = "confirmation" | "password reset" | "email verification";

/** The one shape of every code the local User Pools "send". */
export function codeLine(purpose: CodePurpose, username: string, destination: string, code: string): string {
    return `[cognito] ${purpose} code for ${username} (${destination}): ${code}`;
}

const CODE_LINE = /^\[cognito\] (confirmation|password reset|email verification) code for (\S+) \((.*)\): (\d{6})$/;

/** A console line's parts, or undefined when the line is not a code line (for tests and tools that read the console). */
export function parseCodeLine(line: string): { purpose: CodePurpose; username: string; destination: string; code: string } | undefined {
    const match = CODE_LINE.exec(line.trim());
    return match ? { purpose: match[1] as CodePurpose, username: match[2], destination: match[3], code: match[4] } : undefined;
}

/** cognito-local's message sources, by the purpose Cognito sends them for. */
export const PURPOSE_OF_SOURCE: Record<string, CodePurpose> = {
    SignUp: "confirmation",
    ResendCode: "confirmation",
    AdminCreateUser: "confirmation",
    ForgotPassword: "password reset",
    UpdateUserAttribute: "email verification",
    VerifyUserAttribute: "email verification",
};

/** How long a password-reset or verification code is good for: Cognito's 1 hour. */
const CODE_VALIDITY_MS = 60 * 60 * 1000;
/** Wrong codes before a code is spent and a new one must be requested. */
const MAX_CODE_ATTEMPTS = 5;

/** A code sent for one purpose, kept on the user record. */
interface SentCode {
    code: string;
    expires: number;
    attempts: number;
    /** Email verification: the address the code went to (a pending new address, or the current one). */
    email?: string;
}

export interface AccountCodeServices {
    cognito: any;
    clock: { get(): Date };
    /** A new 6-digit code. */
    otp: () => string;
    /** Prints the code's line. */
    send(purpose: CodePurpose, username: string, destination: string, code: string): void;
}

const attributeOf = (user: any, name: string): string | undefined => user.Attributes?.find((a: { Name: string }) => a.Name === name)?.Value;
const withAttribute = (attributes: { Name: string; Value?: string }[], name: string, value: string) => [...attributes.filter((a) => a.Name !== name), { Name: name, Value: value }];

/**
 * Password reset and email verification as Cognito does them:
 * - `ForgotPassword` sends a code to the verified email; `ConfirmForgotPassword` sets the new password
 *   with it. A wrong code is `CodeMismatchException`, an old one `ExpiredCodeException`, and after
 *   five wrong codes the code is spent (`LimitExceededException`).
 * - `UpdateUserAttributes` with a new email: where the pool's `AttributesRequireVerificationBeforeUpdate`
 *   lists `email`, the old address stays until `VerifyUserAttribute` confirms the new one with the code
 *   sent to it; otherwise the address changes at once, unverified. An address another user has is
 *   `AliasExistsException`. `GetUserAttributeVerificationCode` sends a new code.
 */
export function accountCodes(services: AccountCodeServices, ctx: unknown) {
    const { cognito } = services;

    async function userOfAccessToken(token: string): Promise<{ user: any; pool: any }> {
        const claims = decodeJwt(token);
        const pool = await cognito.getUserPoolForClientId(ctx, claims.client_id);
        const user = await pool.getUserByUsername(ctx, claims.username);
        if (!user) throw new CognitoIdpError("NotAuthorizedException", "User does not exist.");
        return { user, pool };
    }

    async function issue(pool: any, user: any, purpose: CodePurpose, field: string, destination: string, extra: Partial<SentCode> = {}): Promise<void> {
        const code = services.otp();
        const sent: SentCode = { code, expires: Date.now() + CODE_VALIDITY_MS, attempts: 0, ...extra };
        await pool.saveUser(ctx, { ...user, [field]: sent, UserLastModifiedDate: services.clock.get() });
        services.send(purpose, user.Username, destination, code);
    }

    /** Checks `given` against the code in `field`; a wrong one counts, and the fifth spends the code. */
    async function check(pool: any, user: any, field: string, given: unknown): Promise<SentCode> {
        const sent = user[field] as SentCode | undefined;
        if (!sent) throw new CognitoIdpError("CodeMismatchException", "Invalid verification code provided, please try again.");
        if (sent.attempts >= MAX_CODE_ATTEMPTS) throw new CognitoIdpError("LimitExceededException", "Attempt limit exceeded, please try after some time.");
        if (sent.code !== given) {
            const attempts = sent.attempts + 1;
            await pool.saveUser(ctx, { ...user, [field]: { ...sent, attempts } });
            if (attempts >= MAX_CODE_ATTEMPTS) throw new CognitoIdpError("LimitExceededException", "Attempt limit exceeded, please try after some time.");
            throw new CognitoIdpError("CodeMismatchException", "Invalid verification code provided, please try again.");
        }
        if (sent.expires < Date.now()) throw new CognitoIdpError("ExpiredCodeException", "Invalid code provided, please request a code again.");
        return sent;
    }

    /** Another user whose email (or user name) is `email`. */
    async function emailInUse(pool: any, user: any, email: string): Promise<boolean> {
        const other = await pool.getUserByUsername(ctx, email);
        if (other && other.Username !== user.Username) return true;
        const users: any[] = await pool.listUsers(ctx);
        return users.some((u) => u.Username !== user.Username && attributeOf(u, "email")?.toLowerCase() === email.toLowerCase());
    }

    const delivery = (destination: string) => ({ AttributeName: "email", DeliveryMedium: "EMAIL", Destination: destination });

    return {
        async run(operation: string, input: Record<string, any>, fallback: () => Promise<unknown>): Promise<{ output: unknown } | undefined> {
            switch (operation) {
                case "ConfirmSignUp": {
                    // The code went to the email: confirming with it verifies the address, as in Cognito
                    // (AdminConfirmSignUp, which takes no code, does not).
                    const output = await fallback();
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, input.Username);
                    if (user && attributeOf(user, "email") && (pool.options.AutoVerifiedAttributes ?? []).includes("email")) {
                        await pool.saveUser(ctx, { ...user, Attributes: withAttribute(user.Attributes, "email_verified", "true") });
                    }
                    return { output };
                }
                case "ForgotPassword": {
                    // Unknown users were answered by the rules already.
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, input.Username);
                    const email = attributeOf(user, "email");
                    if (!email || attributeOf(user, "email_verified") !== "true") {
                        throw new CognitoIdpError("InvalidParameterException", "Cannot reset password for the user as there is no registered/verified email or phone_number");
                    }
                    await issue(pool, user, "password reset", "PasswordResetCode", email);
                    return { output: { CodeDeliveryDetails: delivery(email) } };
                }
                case "ConfirmForgotPassword": {
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, input.Username);
                    if (!user) {
                        const client = await cognito.getAppClient(ctx, input.ClientId);
                        if (client?.PreventUserExistenceErrors === "ENABLED") throw new CognitoIdpError("CodeMismatchException", "Invalid verification code provided, please try again.");
                        throw new CognitoIdpError("UserNotFoundException", "Username/client id combination not found.");
                    }
                    await check(pool, user, "PasswordResetCode", input.ConfirmationCode);
                    await pool.saveUser(ctx, { ...user, Password: input.Password, PasswordResetCode: undefined, UserStatus: "CONFIRMED", UserLastModifiedDate: services.clock.get() });
                    return { output: {} };
                }
                case "UpdateUserAttributes": {
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    const changes = input.UserAttributes as { Name: string; Value?: string }[];
                    const email = changes.find((a) => a.Name === "email")?.Value;
                    if (changes.some((a) => a.Name === "email_verified" || a.Name === "sub")) throw new CognitoIdpError("NotAuthorizedException", "A client attempted to write unauthorized attribute");
                    if (email === undefined || email === attributeOf(user, "email")) return undefined;
                    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new CognitoIdpError("InvalidParameterException", "Invalid email address format.");
                    if (await emailInUse(pool, user, email)) throw new CognitoIdpError("AliasExistsException", "An account with the given email already exists.");
                    const others = changes.filter((a) => a.Name !== "email");
                    let attributes = user.Attributes as { Name: string; Value?: string }[];
                    for (const a of others) attributes = withAttribute(attributes, a.Name, a.Value ?? "");
                    const waits = (pool.options.UserAttributeUpdateSettings?.AttributesRequireVerificationBeforeUpdate ?? []).includes("email");
                    if (!waits) attributes = withAttribute(withAttribute(attributes, "email", email), "email_verified", "false");
                    await issue(pool, { ...user, Attributes: attributes }, "email verification", "EmailVerificationCode", email, { email });
                    return { output: { CodeDeliveryDetailsList: [delivery(email)] } };
                }
                case "GetUserAttributeVerificationCode": {
                    if (input.AttributeName !== "email") return undefined;
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    const email = (user.EmailVerificationCode as SentCode | undefined)?.email ?? attributeOf(user, "email");
                    if (!email) throw new CognitoIdpError("InvalidParameterException", "User has no email to verify.");
                    await issue(pool, user, "email verification", "EmailVerificationCode", email, { email });
                    return { output: { CodeDeliveryDetails: delivery(email) } };
                }
                case "VerifyUserAttribute": {
                    if (input.AttributeName !== "email") return undefined;
                    const { user, pool } = await userOfAccessToken(input.AccessToken);
                    const sent = await check(pool, user, "EmailVerificationCode", input.Code);
                    const email = sent.email ?? attributeOf(user, "email")!;
                    if (await emailInUse(pool, user, email)) throw new CognitoIdpError("AliasExistsException", "An account with the given email already exists.");
                    const attributes = withAttribute(withAttribute(user.Attributes, "email", email), "email_verified", "true");
                    await pool.saveUser(ctx, { ...user, Attributes: attributes, EmailVerificationCode: undefined, UnverifiedAttributeChanges: undefined, UserLastModifiedDate: services.clock.get() });
                    return { output: {} };
                }
            }
            return undefined;
        },
    };
}
