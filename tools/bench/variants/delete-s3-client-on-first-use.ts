// Benchmark variant of handlers/delete.ts: the S3 SDK loads with the bundle (a static import), but
// the client is built on the first attachment delete. Everything else is the shipped handler.
import type { ObjectDeleter } from "../../../handlers/attachments";
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";
import { createObjectDeleter } from "../../../handlers/s3";

let s3: ObjectDeleter | undefined;
const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: { send: (command: Parameters<ObjectDeleter["send"]>[0]) => (s3 ??= createObjectDeleter()).send(command) },
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
