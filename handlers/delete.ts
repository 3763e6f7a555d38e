/** DELETE /notes/{id}: delete a note and its attachment; `If-Match` makes it conditional (412). 204. */
import { S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { createDocumentClient } from "./dynamo";
import { requireEnv } from "./env";
import { header, httpHandler, pathId } from "./http";
import { deleteNote } from "./notes";

const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: new S3Client({
        credentials: fromEnv(),
        // deleteNote retries the clean-up itself (and logs the outcome), so one SDK attempt each.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 500, requestTimeout: 2000, throwOnRequestTimeout: true },
        // Local S3 emulators behind AWS_ENDPOINT_URL_S3 serve buckets by path, not by host name.
        forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    }),
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
