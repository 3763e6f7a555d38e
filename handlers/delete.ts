/** DELETE /notes/{id}: delete a note and its attachment; `If-Match` makes it conditional (412). 204. */
import type { ObjectDeleter } from "./attachments";
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { header, httpHandler, pathId } from "./http";
import { deleteNote } from "./notes";
import { runLazyModule } from "./runtime/lazy-module";

/**
 * Set in the deployed bundle only: `./s3` bundled on its own, as source text (lib/bundle.ts,
 * "lazy modules"). A `require("./s3")` that esbuild bundled would put the S3 SDK, and every SDK
 * module it shares with the DynamoDB client, behind lazy-init wrappers that cost the cold start
 * more than loading S3 at once.
 */
declare const S3_SDK_BUNDLE: string;

/**
 * The S3 client, built when a deleted note first has an attachment, with the S3 SDK loaded only
 * then (outside a bundle, by a plain `require`): most deletes have none to remove, and a cold
 * start without S3 code is about a tenth faster (bench/README.md).
 */
function s3OnFirstUse(): ObjectDeleter {
    let deleter: ObjectDeleter | undefined;
    const sdk = (): typeof import("./s3") => (typeof S3_SDK_BUNDLE === "string" ? (runLazyModule(S3_SDK_BUNDLE) as typeof import("./s3")) : require("./s3"));
    return { send: (command) => (deleter ??= sdk().createObjectDeleter()).send(command) };
}

const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: s3OnFirstUse(),
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
