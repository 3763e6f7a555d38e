// Benchmark variant of handlers/delete.ts: the S3 SDK is loaded with import() on the first
// attachment delete, and bundled by esbuild (which wraps it). Everything else is the shipped handler.
import type { ObjectDeleter } from "../../../handlers/attachments";
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";

let s3: Promise<ObjectDeleter> | undefined;
const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: {
        send: async (command: Parameters<ObjectDeleter["send"]>[0]) =>
            (await (s3 ??= import("../../../handlers/s3").then(({ createObjectDeleter }) => createObjectDeleter()))).send(command),
    },
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
