/**
 * What a person reads when something fails. Amplify's Auth errors carry Cognito's exception name,
 * Storage errors S3's error code and HTTP status, the notes API calls an `ApiFailure` (status and
 * the API's message). No imports: the Node tests call this with recorded error shapes.
 */

export type Problem =
    | "wrong-code"
    | "expired-code"
    | "code-used"
    | "wrong-totp"
    | "email-in-use"
    | "too-many-attempts"
    | "no-verified-email"
    | "weak-password"
    | "account-exists"
    | "wrong-password"
    | "not-confirmed"
    | "session-expired"
    | "conflict"
    | "file-exists"
    | "not-found"
    | "denied"
    | "invalid"
    | "unavailable"
    | "offline"
    | "unknown";

export interface Explained {
    problem: Problem;
    text: string;
}

interface ErrorShape {
    name?: string;
    message?: string;
    status?: number;
    errorType?: string;
    /** Storage errors (S3). */
    metadata?: { httpStatusCode?: number };
    $metadata?: { httpStatusCode?: number };
}

export interface ErrorContext {
    /** The file, when the failed action was an upload. */
    file?: string;
    /** The code was one from an authenticator app (TOTP), not one we emailed. */
    totp?: boolean;
    /** The password checked was the current one, typed to change it. */
    currentPassword?: boolean;
}

const WRONG_TOTP = "That code does not match your authenticator app. Type the code it shows now (check that your device's clock is right).";
const TOO_MANY = "Too many attempts. Wait a few minutes, then try again.";

export function explain(error: unknown, context: ErrorContext = {}): Explained {
    const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as ErrorShape;
    const name = e.name ?? "";
    const message = e.message ?? "";
    const status = e.status ?? e.metadata?.httpStatusCode ?? e.$metadata?.httpStatusCode;
    const say = (problem: Problem, text: string): Explained => ({ problem, text });

    switch (name) {
        case "CodeMismatchException":
            if (context.totp) return say("wrong-totp", WRONG_TOTP);
            return say("wrong-code", "That code is not the one we emailed. Check the latest email and type the code again.");
        case "EnableSoftwareTokenMFAException":
            // VerifySoftwareToken's answer to a wrong code while setting up the authenticator app.
            return say("wrong-totp", WRONG_TOTP);
        case "ExpiredCodeException":
            // Cognito: "Your software token has already been used once." A one-time code is refused the second time.
            if (/already been used/i.test(message)) return say("code-used", "That code was already used. Wait for the next code in your authenticator app and type it.");
            if (context.totp) return say("wrong-totp", WRONG_TOTP);
            // An emailed code that was used already answers the same as an expired one ("Invalid code provided, please request a code again.").
            return say("expired-code", "That code has expired or was already used. Ask for a new code and use the latest one.");
        case "AliasExistsException":
            return say("email-in-use", "Another account already uses this email. Choose a different email.");
        case "SoftwareTokenMFANotFoundException":
            return say("invalid", "Set up an authenticator app first.");
        case "TooManyFailedAttemptsException":
        case "LimitExceededException":
        case "TooManyRequestsException":
            return say("too-many-attempts", TOO_MANY);
        case "InvalidParameterException":
            if (/no registered\/verified email/i.test(message)) return say("no-verified-email", "This account has no verified email, so we cannot send it a reset code.");
            break;
        case "InvalidPasswordException": {
            // Cognito names the rule that failed: "Password did not conform with policy: Password not long enough".
            const rule = /policy: (.+?)\.?$/.exec(message)?.[1];
            return say("weak-password", `Choose a stronger password${rule ? ` (${rule})` : ""}: longer, with upper- and lower-case letters, digits and symbols.`);
        }
        case "UsernameExistsException":
            return say("account-exists", "An account with this email already exists. Sign in instead.");
        case "UserNotConfirmedException":
            return say("not-confirmed", "This account is not confirmed yet. Enter the code we emailed you.");
        case "UserNotFoundException":
            return say("wrong-password", "Incorrect email or password.");
        case "NotAuthorizedException":
            // "Password attempts exceeded"; "Too many invalid credentials attempts. User temporarily locked."
            if (/attempts exceeded|too many/i.test(message)) return say("too-many-attempts", TOO_MANY);
            if (/expired|revoked/i.test(message)) return say("session-expired", "Your session has expired. Sign in again.");
            if (context.currentPassword) return say("wrong-password", "Your current password is not correct.");
            return say("wrong-password", "Incorrect email or password.");
        case "SessionExpired":
        case "UserUnAuthenticatedException":
        case "NoCredentials":
        case "ExpiredToken":
        case "ExpiredTokenException":
            return say("session-expired", "Your session has expired. Sign in again.");
        case "PreconditionFailed":
            return say(
                "file-exists",
                `${context.file ? `“${context.file}”` : "This file"} is already stored for this note. Overwrite protection kept the stored file; remove it first to replace it.`,
            );
        case "NoSuchKey":
        case "NotFound":
            return say("not-found", "That file is no longer there.");
        case "AccessDenied":
            return say("denied", "Access denied: you can only use your own files.");
        case "NetworkError":
            return say("offline", "Cannot reach the service. Check your connection and try again.");
    }
    if (name === "ApiFailure") {
        if (status === 412) return say("conflict", "This note was changed elsewhere since you opened it. Your edit was not saved: reload the note to see the latest version.");
        if (status === 404) return say("not-found", "This note no longer exists.");
        if (status === 403 && e.errorType === "ExpiredTokenException") return say("session-expired", "Your session has expired. Sign in again.");
        if (status === 403) return say("denied", "The API refused the request.");
        if (status === 400) return say("invalid", message);
        if (status === 503 || status === 429) return say("unavailable", "The service is busy. Try again in a moment.");
    }
    if (error instanceof TypeError && /fetch|network/i.test(message)) return say("offline", "Cannot reach the service. Check your connection and try again.");
    return say("unknown", message || "Something went wrong.");
}
