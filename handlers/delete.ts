/** DELETE /notes/{id}: delete a note and its attachment; `If-Match` makes it conditional (412). 204. */
import type { ObjectDeleter } from "./attachments";
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { header, httpHandler, pathId } from "./http";
import { deleteNote } from "./notes";

/**
 * The S3 client, built when a deleted note first has an attachment, with the S3 SDK loaded only
 * then: most deletes have none to remove, and a cold start that loads no S3 code is faster
 * (BENCHMARKS.md, `s3AtInit`). In the deployed package `s3.js` is a file of its own beside the
 * bundle (lib/bundle.ts, "package modules"), which Node reads and compiles on this `require`;
 * outside a bundle the name resolves to s3.ts.
 */
function s3OnFirstUse(): ObjectDeleter {
    let deleter: ObjectDeleter | undefined;
    return { send: (command) => (deleter ??= (require("./s3.js") as typeof import("./s3.js")).createObjectDeleter()).send(command) };
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
