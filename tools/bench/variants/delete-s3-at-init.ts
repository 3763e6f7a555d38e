// Benchmark variant of handlers/delete.ts as it was before the S3 SDK moved to s3.js, loaded on first use: the
// S3 client is built at init, so the S3 SDK loads with the bundle. Everything else is the shipped handler.
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";
import { createObjectDeleter } from "../../../handlers/s3";

const deps = { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME"), bucketName: requireEnv("BUCKET_NAME"), s3: createObjectDeleter() };

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
