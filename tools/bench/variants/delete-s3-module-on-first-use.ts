// Benchmark variant of handlers/delete.ts: the module that builds the S3 client is loaded with
// import() on the first attachment delete. Everything else is the shipped handler.
import type { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";

let s3: Promise<S3Client> | undefined;
const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: {
        send: async (command: DeleteObjectCommand) => (await (s3 ??= import("./s3-client").then(({ createS3Client }) => createS3Client()))).send(command),
    },
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
