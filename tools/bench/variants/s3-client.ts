// The S3 client of handlers/delete.ts, in a module of its own for the import()-on-first-use variant.
import { S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";

export function createS3Client(): S3Client {
    return new S3Client({
        credentials: fromEnv(),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 500, requestTimeout: 2000, throwOnRequestTimeout: true },
        forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    });
}
