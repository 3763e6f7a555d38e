import { strict as assert } from "node:assert";
import { explain } from "../../web/src/messages";

/** Errors as Amplify JS v6 raises them: Auth errors carry Cognito's exception name, Storage errors S3's code. */
const authError = (name: string, message = "") => Object.assign(new Error(message), { name });
const storageError = (name: string, status: number) => Object.assign(new Error(name), { name, metadata: { httpStatusCode: status } });
const apiFailure = (status: number, message = "", errorType?: string) => Object.assign(new Error(message), { name: "ApiFailure", status, errorType });

describe("reference client's messages (web/src/messages.ts)", () => {
    it("says a confirmation code is wrong or expired", () => {
        assert.deepEqual(explain(authError("CodeMismatchException", "Invalid verification code provided, please try again.")), {
            problem: "wrong-code",
            text: "That code is not the one we emailed. Check the latest email and type the code again.",
        });
        assert.equal(explain(authError("ExpiredCodeException")).problem, "expired-code");
        // An emailed code is not an authenticator's: "the one we emailed" only without the TOTP context.
        assert.equal(explain(authError("CodeMismatchException")).problem, "wrong-code");
    });

    it("asks for a stronger password at sign-up, naming the rule Cognito reports", () => {
        const weak = explain(authError("InvalidPasswordException", "Password did not conform with policy: Password not long enough"));
        assert.equal(weak.problem, "weak-password");
        assert.equal(weak.text, "Choose a stronger password (Password not long enough): longer, with upper- and lower-case letters, digits and symbols.");
    });

    it("says 'incorrect email or password' for a wrong password or an unknown user at sign-in, with or without user existence errors", () => {
        for (const error of [authError("NotAuthorizedException", "Incorrect username or password."), authError("UserNotFoundException", "User does not exist.")]) {
            assert.deepEqual(explain(error), { problem: "wrong-password", text: "Incorrect email or password." });
        }
    });

    it("says the session has expired for every way Amplify and the API report it", () => {
        for (const error of [
            authError("NotAuthorizedException", "Refresh Token has expired"),
            authError("UserUnAuthenticatedException"),
            authError("SessionExpired"),
            storageError("NoCredentials", 0),
            storageError("ExpiredToken", 400),
            apiFailure(403, "The security token included in the request is expired", "ExpiredTokenException"),
        ]) {
            assert.deepEqual(explain(error), { problem: "session-expired", text: "Your session has expired. Sign in again." }, error.name);
        }
    });

    it("explains a 412 from the API as a change made elsewhere", () => {
        const conflict = explain(apiFailure(412, "The note has changed since the given If-Match version; fetch it again"));
        assert.equal(conflict.problem, "conflict");
        assert.match(conflict.text, /changed elsewhere since you opened it\. Your edit was not saved/);
    });

    it("says a file sent twice was kept by overwrite protection, naming the file", () => {
        assert.deepEqual(explain(storageError("PreconditionFailed", 412), { file: "report.pdf" }), {
            problem: "file-exists",
            text: "“report.pdf” is already stored for this note. Overwrite protection kept the stored file; remove it first to replace it.",
        });
    });

    it("passes the API's own message on for a 400, and names access denied, a missing note and a busy service", () => {
        assert.deepEqual(explain(apiFailure(400, "content must be at most 65536 bytes")), { problem: "invalid", text: "content must be at most 65536 bytes" });
        assert.equal(explain(storageError("AccessDenied", 403)).problem, "denied");
        assert.equal(explain(apiFailure(404)).problem, "not-found");
        assert.equal(explain(apiFailure(503)).problem, "unavailable");
        assert.equal(explain(new TypeError("Failed to fetch")).problem, "offline");
    });

    it("tells a wrong authenticator code, at set-up (EnableSoftwareTokenMFAException) and at sign-in (CodeMismatchException)", () => {
        const wrong = "That code does not match your authenticator app. Type the code it shows now (check that your device's clock is right).";
        assert.deepEqual(explain(authError("EnableSoftwareTokenMFAException", "Code mismatch")), { problem: "wrong-totp", text: wrong });
        assert.deepEqual(explain(authError("CodeMismatchException", "Invalid code received for user"), { totp: true }), { problem: "wrong-totp", text: wrong });
    });

    it("says an authenticator code was already used, and an emailed code expired or used", () => {
        assert.deepEqual(explain(authError("ExpiredCodeException", "Your software token has already been used once."), { totp: true }), {
            problem: "code-used",
            text: "That code was already used. Wait for the next code in your authenticator app and type it.",
        });
        assert.deepEqual(explain(authError("ExpiredCodeException", "Invalid code provided, please request a code again.")), {
            problem: "expired-code",
            text: "That code has expired or was already used. Ask for a new code and use the latest one.",
        });
    });

    it("asks for a stronger new password, and names a wrong current password when changing it", () => {
        assert.equal(explain(authError("InvalidPasswordException", "Password does not conform to policy: Password must have symbol characters")).problem, "weak-password");
        assert.deepEqual(explain(authError("NotAuthorizedException", "Incorrect username or password."), { currentPassword: true }), {
            problem: "wrong-password",
            text: "Your current password is not correct.",
        });
    });

    it("says the new email belongs to another account (AliasExistsException)", () => {
        assert.deepEqual(explain(authError("AliasExistsException", "An account with the given email already exists.")), {
            problem: "email-in-use",
            text: "Another account already uses this email. Choose a different email.",
        });
    });

    it("says 'too many attempts' for every way Cognito limits them, before any 'wrong password'", () => {
        for (const error of [
            authError("NotAuthorizedException", "Password attempts exceeded"),
            authError("NotAuthorizedException", "Too many invalid credentials attempts. User temporarily locked. Please try again after few seconds."),
            authError("LimitExceededException", "Attempt limit exceeded, please try after some time."),
            authError("TooManyFailedAttemptsException"),
            authError("TooManyRequestsException"),
        ]) {
            assert.deepEqual(explain(error), { problem: "too-many-attempts", text: "Too many attempts. Wait a few minutes, then try again." }, error.message || error.name);
        }
    });

    it("says a reset code cannot go to an account without a verified email", () => {
        const error = authError("InvalidParameterException", "Cannot reset password for the user as there is no registered/verified email or phone_number");
        assert.equal(explain(error).problem, "no-verified-email");
    });

    it("falls back to the error's own message", () => {
        assert.deepEqual(explain(new Error("something odd")), { problem: "unknown", text: "something odd" });
        assert.deepEqual(explain("a string"), { problem: "unknown", text: "a string" });
    });
});
