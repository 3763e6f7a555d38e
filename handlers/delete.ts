/** DELETE /notes/{id}: delete a note and its attachment; `If-Match` makes it conditional (412). 204. */
import { s3ClientOnFirstUse } from "./attachments";
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { header, httpHandler, pathId } from "./http";
import { deleteNote } from "./notes";

const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    // Built, with the S3 SDK loaded, when a deleted note first has an attachment to remove.
    s3: s3ClientOnFirstUse(),
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
