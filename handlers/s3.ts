/**
 * The delete function's S3 side: its client and the one command it sends. Loaded only when a
 * deleted note has an attachment (`attachments.ts` requires it there), so that a cold start does
 * not load the S3 SDK; `lib/bundle.ts` bundles this file on its own for that.
 */
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";

/** Region, credentials and `AWS_ENDPOINT_URL_S3` come from the function's environment, as for DynamoDB (dynamo.ts). */
export function createS3Client(): S3Client {
    return new S3Client({
        credentials: fromEnv(),
        // removeAttachment retries the clean-up itself (and logs the outcome), so one SDK attempt each.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 500, requestTimeout: 2000, throwOnRequestTimeout: true },
        // Local S3 emulators behind AWS_ENDPOINT_URL_S3 serve buckets by path, not by host name.
        forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    });
}

export function deleteObjectCommand(bucket: string, key: string): DeleteObjectCommand {
    return new DeleteObjectCommand({ Bucket: bucket, Key: key });
}
