/**
 * The delete function's S3 side: its client and the one call it makes. Loaded only when a deleted
 * note has an attachment (delete.ts), so that a cold start loads no S3 code; `lib/bundle.ts`
 * bundles this file on its own, into `s3.js` beside the delete function's `index.js` ("package modules").
 */
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import type { ObjectDeleter } from "./attachments";

/**
 * An S3 client for attachment clean-up. Region, credentials and `AWS_ENDPOINT_URL_S3` come from
 * the function's environment, as for DynamoDB (dynamo.ts).
 */
export function createObjectDeleter(): ObjectDeleter {
    const client = new S3Client({
        credentials: fromEnv(),
        // removeAttachment retries the clean-up itself (and logs the outcome), so one SDK attempt each.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 500, requestTimeout: 2000, throwOnRequestTimeout: true },
        // Local S3 emulators behind AWS_ENDPOINT_URL_S3 serve buckets by path, not by host name.
        forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    });
    return { send: ({ input }) => client.send(new DeleteObjectCommand(input)) };
}
