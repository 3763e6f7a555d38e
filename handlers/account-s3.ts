/**
 * The account function's S3 side: its client and the two calls the erasure makes. Loaded only when
 * the caller's notes are gone (account.ts), so a call that stops in the notes loads no S3 code;
 * `lib/bundle.ts` bundles this file on its own, into `account-s3.js` beside `index.js`.
 */
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import type { VersionStore } from "./erasure";

/** Region, credentials and `AWS_ENDPOINT_URL_S3` come from the function's environment (dynamo.ts). */
export function createVersionStore(): VersionStore {
    const client = new S3Client({
        credentials: fromEnv(),
        // A DeleteObjects of 1,000 keys can take seconds. One attempt, bounded, so that a call
        // started before the budget ran out ends before the function's timeout
        // (ERASURE_RESERVE_MS); the erasure retries failed keys itself, and a failed call is a
        // 503 the client's next call resumes from.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 500, requestTimeout: 8000, throwOnRequestTimeout: true },
        // Local S3 emulators behind AWS_ENDPOINT_URL_S3 serve buckets by path, not by host name.
        forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    });
    return {
        listObjectVersions: (input) => client.send(new ListObjectVersionsCommand(input)),
        deleteObjects: (input) => client.send(new DeleteObjectsCommand(input)),
    };
}
