// Benchmark variant of handlers/delete.ts without any S3 code, not even a require of s3.js:
// the bound for the shipped handler's cold start (not a shippable handler: it cannot delete attachments).
import { createDocumentClient } from "../../../handlers/dynamo";
import { requireEnv } from "../../../handlers/env";
import { header, httpHandler, pathId } from "../../../handlers/http";
import { deleteNote } from "../../../handlers/notes";

const deps = {
    client: createDocumentClient(),
    tableName: requireEnv("TABLE_NAME"),
    bucketName: requireEnv("BUCKET_NAME"),
    s3: {
        send: async (): Promise<never> => {
            throw new Error("this benchmark variant has no S3 client");
        },
    },
};

export const handler = httpHandler(async ({ userId, event, log }) => {
    await deleteNote({ ...deps, log }, userId, pathId(event), header(event, "if-match"));
    return { statusCode: 204 };
});
