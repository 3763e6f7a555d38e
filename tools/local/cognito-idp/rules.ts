import { decodeJwt } from "jose";

/** A Cognito IdP error in the AWS JSON 1.1 format. */
export class CognitoIdpError extends Error {
    constructor(
        readonly type: string,
        message: string,
        readonly status = 400,
    ) {
        super(message);
    }
}

/** A pool's `Policies.PasswordPolicy` as the API describes it. */
export interface PasswordPolicy {
    MinimumLength?: number;
    RequireLowercase?: boolean;
    RequireUppercase?: boolean;
    RequireNumbers?: boolean;
    RequireSymbols?: boolean;
}

/**
 * The special characters Cognito counts for `RequireSymbols` ("Adding user pool password requirements",
 * Amazon Cognito Developer Guide): `^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = + -`,
 * and the space.
 */
const SYMBOLS = new Set([..."^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "]);

/**
 * The rule of `policy` that `password` breaks, in Cognito's words, or undefined. Cognito names one
 * rule, checked in this order: length, lower case, upper case, digits, symbols. Letters are Basic
 * Latin letters, as the guide says.
 */
export function passwordPolicyFailure(policy: PasswordPolicy, password: string): string | undefined {
    const characters = [...password];
    if (characters.length < (policy.MinimumLength ?? 8)) return "Password not long enough";
    if (policy.RequireLowercase && !/[a-z]/.test(password)) return "Password must have lowercase characters";
    if (policy.RequireUppercase && !/[A-Z]/.test(password)) return "Password must have uppercase characters";
    if (policy.RequireNumbers && !/[0-9]/.test(password)) return "Password must have numeric characters";
    if (policy.RequireSymbols && !characters.some((c) => SYMBOLS.has(c))) return "Password must have symbol characters";
    return undefined;
}

/** cognito-local's services these rules use (its `CognitoService`, `MessagesService`, `otp`, `Clock`, and how it picks a code's destination). */
export interface UserPoolServices {
    cognito: any;
    messages: any;
    otp: () => string;
    clock: { get(): Date };
    selectAppropriateDeliveryMethod: (autoVerifiedAttributes: string[], user: unknown) => Record<string, string> | null;
}

const INCORRECT = () => new CognitoIdpError("NotAuthorizedException", "Incorrect username or password.");
const CODE_MISMATCH = "Invalid verification code provided, please try again.";
/** Cognito's answer for an unknown user on the operations that take a code or send one, when the client allows existence errors. */
const NOT_FOUND = () => new CognitoIdpError("UserNotFoundException", "Username/client id combination not found.");

/** Operations that set a password, where it comes from, and where the pool is found. */
const SETS_PASSWORD: Record<string, { password: (input: any) => unknown; pool: "client" | "token" | "poolId" }> = {
    SignUp: { password: (input) => input.Password, pool: "client" },
    ConfirmForgotPassword: { password: (input) => input.Password, pool: "client" },
    RespondToAuthChallenge: { password: (input) => (input.ChallengeName === "NEW_PASSWORD_REQUIRED" ? input.ChallengeResponses?.NEW_PASSWORD : undefined), pool: "client" },
    ChangePassword: { password: (input) => input.ProposedPassword, pool: "token" },
    AdminSetUserPassword: { password: (input) => input.Password, pool: "poolId" },
};
const PASSWORD_FLOWS = new Set(["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]);

/**
 * Cognito's answers where cognito-local answers otherwise, for what a person meets signing up and in:
 * - every operation that sets a password enforces the pool's password policy
 *   (`InvalidPasswordException`, "Password did not conform with policy: …" at sign-up, "Password does
 *   not conform to policy: …" elsewhere);
 * - a wrong password is `NotAuthorizedException` "Incorrect username or password.";
 * - an unknown user, with the app client's `PreventUserExistenceErrors: ENABLED`, gets the same answer
 *   at sign-in and a simulated code delivery from ResendConfirmationCode and ForgotPassword
 *   ("Managing user existence error responses", Amazon Cognito Developer Guide); with `LEGACY`,
 *   `UserNotFoundException`;
 * - an unconfirmed user's sign-in is `UserNotConfirmedException` whatever the password (Cognito's
 *   stated design: the client can send the user to confirm);
 * - ResendConfirmationCode, which cognito-local does not implement, sends a new code;
 * - confirming twice, a wrong code and an existing email get Cognito's errors and messages.
 */
export function userPoolRules(services: UserPoolServices, ctx: unknown) {
    const { cognito } = services;

    async function poolOf(input: Record<string, any>, where: "client" | "token" | "poolId"): Promise<any> {
        if (where === "poolId") return cognito.getUserPool(ctx, input.UserPoolId);
        const clientId = where === "client" ? input.ClientId : decodeJwt(String(input.AccessToken)).client_id;
        return cognito.getUserPoolForClientId(ctx, clientId);
    }

    async function hidesUsers(clientId: unknown): Promise<boolean> {
        return (await cognito.getAppClient(ctx, clientId))?.PreventUserExistenceErrors === "ENABLED";
    }

    async function deliverCode(pool: any, user: any, clientId: string, source: string, clientMetadata: unknown): Promise<Record<string, string>> {
        const delivery = services.selectAppropriateDeliveryMethod(pool.options.AutoVerifiedAttributes ?? [], user);
        if (!delivery) throw new CognitoIdpError("InvalidParameterException", "User has no attribute matching desired auto verified attributes");
        const code = services.otp();
        await pool.saveUser(ctx, { ...user, ConfirmationCode: code, UserLastModifiedDate: services.clock.get() });
        await services.messages.deliver(ctx, source, clientId, pool.options.Id, user, code, clientMetadata, delivery);
        return delivery;
    }

    /** What Cognito reports for a code sent to a user that does not exist: a delivery that looks real. */
    const simulatedDelivery = (username: string) => ({ CodeDeliveryDetails: { AttributeName: "email", DeliveryMedium: "EMAIL", Destination: username } });

    return {
        /**
         * Runs before cognito-local: throws Cognito's error, or answers an operation itself
         * (`{ output }`), or returns undefined to let cognito-local run it.
         */
        async before(operation: string, input: Record<string, any>): Promise<{ output: unknown } | undefined> {
            const setter = SETS_PASSWORD[operation];
            const password = setter?.password(input);
            if (typeof password === "string") {
                const pool = await poolOf(input, setter.pool);
                const failure = passwordPolicyFailure(pool.options.Policies?.PasswordPolicy ?? {}, password);
                if (failure) throw new CognitoIdpError("InvalidPasswordException", `${operation === "SignUp" ? "Password did not conform with policy" : "Password does not conform to policy"}: ${failure}`);
                if (operation === "SignUp" && (await pool.getUserByUsername(ctx, input.Username))) {
                    const byEmail = pool.options.UsernameAttributes?.includes("email");
                    throw new CognitoIdpError("UsernameExistsException", byEmail ? "An account with the given email already exists." : "User already exists");
                }
            }
            switch (operation) {
                case "InitiateAuth":
                case "AdminInitiateAuth": {
                    if (!PASSWORD_FLOWS.has(input.AuthFlow)) return undefined;
                    const username = input.AuthParameters?.USERNAME;
                    if (typeof username !== "string") throw new CognitoIdpError("InvalidParameterException", "Missing required parameter USERNAME");
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, username);
                    if (!user) throw (await hidesUsers(input.ClientId)) ? INCORRECT() : new CognitoIdpError("UserNotFoundException", "User does not exist.");
                    if (user.Enabled === false) throw new CognitoIdpError("NotAuthorizedException", "User is disabled.");
                    if (user.UserStatus === "UNCONFIRMED") throw new CognitoIdpError("UserNotConfirmedException", "User is not confirmed.");
                    return undefined;
                }
                case "ConfirmSignUp": {
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, input.Username);
                    if (!user) throw (await hidesUsers(input.ClientId)) ? new CognitoIdpError("CodeMismatchException", CODE_MISMATCH) : NOT_FOUND();
                    if (user.UserStatus === "CONFIRMED") throw new CognitoIdpError("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED");
                    return undefined;
                }
                case "ResendConfirmationCode":
                case "ForgotPassword": {
                    const pool = await cognito.getUserPoolForClientId(ctx, input.ClientId);
                    const user = await pool.getUserByUsername(ctx, input.Username);
                    if (!user) {
                        if (await hidesUsers(input.ClientId)) return { output: simulatedDelivery(input.Username) };
                        throw NOT_FOUND();
                    }
                    if (operation === "ForgotPassword") return undefined;
                    if (user.UserStatus === "CONFIRMED") throw new CognitoIdpError("InvalidParameterException", "User is already confirmed.");
                    return { output: { CodeDeliveryDetails: await deliverCode(pool, user, input.ClientId, "ResendCode", input.ClientMetadata) } };
                }
            }
            return undefined;
        },

        /** Cognito's error for one cognito-local threw (`code` and `message`). */
        translate(operation: string, error: { code: string; message: string }): CognitoIdpError {
            if (error.code === "InvalidPasswordException" && ["InitiateAuth", "AdminInitiateAuth", "ChangePassword"].includes(operation)) return INCORRECT();
            if (error.code === "CodeMismatchException") return new CognitoIdpError("CodeMismatchException", CODE_MISMATCH);
            return new CognitoIdpError(error.code, error.message);
        },
    };
}
