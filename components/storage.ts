import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, lockDownBucket } from "../lib/bucket";
import { policyJson } from "../lib/iam";

export interface NotesStorageArgs {
    /**
     * Browser origins allowed to upload to and download from the bucket directly.
     * Fed by the `corsAllowedOrigins` stack setting.
     */
    corsAllowedOrigins: pulumi.Input<pulumi.Input<string>[]>;
    /** Refuse to delete the table while this is on. Fed by `deletionProtection` (default in Pulumi.yaml). */
    deletionProtection: boolean;
    /** Keep the table and the bucket in AWS when they leave the stack. Fed by `retainOnDelete`. */
    retainOnDelete: boolean;
    /** Keep every version of every uploaded object. Fed by `bucketVersioning`. */
    bucketVersioning: boolean;
    /**
     * With versioning on, days S3 keeps a noncurrent version (what an overwrite or a delete leaves
     * behind) before deleting it for good. Fed by `noncurrentVersionExpirationDays`.
     */
    noncurrentVersionExpirationDays: number;
    /**
     * Let Pulumi delete the bucket with objects still in it; weakens data safety, so opt-in per
     * stack. Fed by `bucketForceDestroy`.
     */
    bucketForceDestroy: boolean;
}

/** Methods browsers use on the bucket: downloads, single and multipart uploads, deletes. */
const BUCKET_CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"];
/**
 * Request headers browsers send to the bucket: the SigV4 headers, and what Amplify Storage v6
 * sends (`serializeObjectConfigsToHeaders`, `putObject`, `completeMultipartUpload` and its retry
 * and user-agent middleware in amplify-js): `If-None-Match` for `preventOverwrite`, the object's
 * content headers and `expires`. `x-amz-*` covers the signature, ACL, tagging, checksum, metadata
 * and expected-owner headers. S3 matches these case-insensitively.
 */
const BUCKET_CORS_HEADERS = [
    "authorization",
    "content-type",
    "content-md5",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "if-none-match",
    "x-amz-*",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];
/**
 * Response headers the browser may read: `ETag` completes multipart uploads; the rest are what
 * Amplify's documentation asks a bucket's CORS to expose, plus the version id for versioned buckets.
 */
const BUCKET_CORS_EXPOSE = ["ETag", "x-amz-server-side-encryption", "x-amz-request-id", "x-amz-id-2", "x-amz-version-id"];

/**
 * The data of the notes app: a DynamoDB table of notes keyed by the caller's Identity Pool id,
 * and a private S3 bucket for attachments that browsers upload to directly.
 */
export class NotesStorage extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly bucket: aws.s3.Bucket;
    readonly tableName: pulumi.Output<string>;
    readonly tableArn: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;

    constructor(name: string, args: NotesStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notes:storage:NotesStorage", name, {}, opts);

        this.table = this.createTable(name, args.deletionProtection, args.retainOnDelete);
        this.bucket = new aws.s3.Bucket(
            `${name}-uploads`,
            { forceDestroy: args.bucketForceDestroy },
            { parent: this, retainOnDelete: args.retainOnDelete },
        );
        this.secureBucket(name, this.bucket);
        this.expireOldObjects(name, this.bucket, args);
        this.allowBrowserUploads(name, this.bucket, args.corsAllowedOrigins);

        this.tableName = this.table.name;
        this.tableArn = this.table.arn;
        this.bucketName = this.bucket.bucket;
        this.bucketArn = this.bucket.arn;
        this.registerOutputs({
            tableName: this.tableName,
            tableArn: this.tableArn,
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
        });
    }

    private createTable(name: string, deletionProtection: boolean, retainOnDelete: boolean): aws.dynamodb.Table {
        return new aws.dynamodb.Table(
            `${name}-notes`,
            {
                attributes: [
                    { name: "userId", type: "S" },
                    { name: "noteId", type: "S" },
                ],
                hashKey: "userId",
                rangeKey: "noteId",
                billingMode: "PAY_PER_REQUEST",
                pointInTimeRecovery: { enabled: true },
                // The AWS-owned key (DynamoDB's default): see "Encryption keys" in docs/production.md.
                // `enabled: true` without a key would switch to the AWS-managed KMS key.
                serverSideEncryption: { enabled: false },
                deletionProtectionEnabled: deletionProtection,
            },
            { parent: this, retainOnDelete },
        );
    }

    /** No public access of any kind, no ACLs, encryption at rest, TLS only. */
    private secureBucket(name: string, bucket: aws.s3.Bucket): void {
        const publicAccessBlock = lockDownBucket(`${name}-uploads`, bucket, this);
        new aws.s3.BucketPolicy(
            `${name}-uploads-tls-only`,
            // A deny-only policy: it makes no principal more powerful.
            { bucket: bucket.id, policy: policyJson([denyInsecureTransport(bucket)]) },
            // One configuration change at a time per bucket: S3 can answer OperationAborted when
            // the policy and the public access block are written concurrently.
            { parent: this, dependsOn: [publicAccessBlock] },
        );
    }

    /**
     * Lifecycle: multipart uploads nobody completed or aborted go after 7 days. With versioning,
     * what users overwrite or delete stays recoverable for `noncurrentVersionExpirationDays`, then
     * goes for good, and a delete marker left with no version behind it is removed.
     */
    private expireOldObjects(name: string, bucket: aws.s3.Bucket, args: NotesStorageArgs): void {
        const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
            {
                id: "abort-incomplete-multipart-uploads",
                status: "Enabled",
                filter: { prefix: "" },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            },
        ];
        let versioning: aws.s3.BucketVersioning | undefined;
        if (args.bucketVersioning) {
            versioning = new aws.s3.BucketVersioning(
                `${name}-uploads-versioning`,
                { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
                { parent: this },
            );
            rules.push({
                id: "expire-noncurrent-versions",
                status: "Enabled",
                filter: { prefix: "" },
                noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
                expiration: { expiredObjectDeleteMarker: true },
            });
        }
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-uploads-lifecycle`,
            { bucket: bucket.id, rules },
            // Versioning first: rules on noncurrent versions apply to a bucket that has them.
            { parent: this, dependsOn: versioning ? [versioning] : [] },
        );
    }

    private allowBrowserUploads(name: string, bucket: aws.s3.Bucket, origins: pulumi.Input<pulumi.Input<string>[]>): void {
        new aws.s3.BucketCorsConfiguration(
            `${name}-uploads-cors`,
            {
                bucket: bucket.id,
                corsRules: [
                    {
                        allowedMethods: BUCKET_CORS_METHODS,
                        allowedOrigins: origins,
                        allowedHeaders: BUCKET_CORS_HEADERS,
                        exposeHeaders: BUCKET_CORS_EXPOSE,
                        maxAgeSeconds: 3000,
                    },
                ],
            },
            { parent: this },
        );
    }
}
