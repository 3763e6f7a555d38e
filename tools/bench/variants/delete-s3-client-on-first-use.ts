// Benchmark variant of handlers/delete.ts: the S3 client is created on the first attachment
// delete instead of at init. Everything else is the shipped handler.
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";

let s3: S3Client | undefined;
const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: {
        send: (command: DeleteObjectCommand) =>
            (s3 ??= new S3Client({
                credentials: fromEnv(),
                maxAttempts: 1,
                requestHandler: { connectionTimeout: 500, requestTimeout: 2000, throwOnRequestTimeout: true },
                forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
            })).send(command),
    },
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
