/**
 * DELETE /account: erase the caller's account, data first and user last. 202 with what remains
 * while work remains (call again), 204 once notes, files, identity and user are gone, and 204
 * again after that. The user comes from the IAM authorizer's Cognito identity only.
 */
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { AccountDirectory, eraseAccount, ERASURE_RESERVE_MS, VersionStore } from "./erasure";
import { httpHandler, signedInUser } from "./http";

/**
 * A package module's export, required on first use: `account-s3.js` and `account-cognito.js` are
 * files of their own beside the bundle (lib/bundle.ts, "package modules"), which Node reads and
 * compiles on that `require`, so a call that stops in the notes loads no S3 or Cognito code.
 * Outside a bundle the names resolve to the .ts files.
 */
function onFirstUse<T>(load: () => T): () => T {
    let loaded: T | undefined;
    return () => (loaded ??= load());
}

const userPoolId = requireEnv("USER_POOL_ID");

const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    objects: onFirstUse((): VersionStore => (require("./account-s3.js") as typeof import("./account-s3.js")).createVersionStore()),
    directory: onFirstUse((): AccountDirectory => (require("./account-cognito.js") as typeof import("./account-cognito.js")).createAccountDirectory(userPoolId)),
};

/** The User Pool and Identity Pool whose users this function erases; credentials from any other are refused. */
const expected = { providerName: requireEnv("USER_POOL_PROVIDER_NAME"), identityPoolId: requireEnv("IDENTITY_POOL_ID") };

export const handler = httpHandler(async ({ event, log, context }) => {
    const user = signedInUser(event, expected);
    const remainingMs = context?.getRemainingTimeInMillis?.() ?? 0;
    const report = await eraseAccount({ ...deps, log, deadline: Date.now() + remainingMs - ERASURE_RESERVE_MS }, user);
    log.info("Account erasure", { done: report.done, remaining: report.remaining, deleted: report.deleted });
    if (report.done) return { statusCode: 204 };
    return { statusCode: 202, body: { remaining: report.remaining, deleted: report.deleted } };
});
