import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyJson } from "../lib/iam";

export interface NotesStorageArgs {
    /**
     * Browser origins allowed to upload to and download from the bucket directly.
     * Fed by the `corsAllowedOrigins` stack setting.
     */
    corsAllowedOrigins: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Refuse to delete the table while this is on. Fed by `deletionProtection`.
     * @default false
     */
    deletionProtection?: boolean;
    /**
     * Keep the table and the bucket in AWS when they leave the stack. Fed by `retainOnDelete`.
     * @default false
     */
    retainOnDelete?: boolean;
    /**
     * Keep every version of every uploaded object. Fed by `bucketVersioning`.
     * @default false
     */
    bucketVersioning?: boolean;
    /**
     * Let Pulumi delete the bucket with objects still in it; weakens data safety, so opt-in per
     * stack. Fed by `bucketForceDestroy`.
     * @default false
     */
    bucketForceDestroy?: boolean;
}

/** Methods browsers use on the bucket: downloads, single and multipart uploads, deletes. */
const BUCKET_CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"];
/** Request headers the AWS SDKs and Amplify Storage send when signing S3 requests in a browser. */
const BUCKET_CORS_HEADERS = [
    "authorization",
    "content-type",
    "content-md5",
    "content-disposition",
    "cache-control",
    "x-amz-*",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];
/** `ETag` must be readable by the browser or multipart uploads cannot be completed. */
const BUCKET_CORS_EXPOSE = ["ETag", "x-amz-version-id", "x-amz-request-id"];

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
        const retainOnDelete = args.retainOnDelete ?? false;

        this.table = this.createTable(name, args.deletionProtection ?? false, retainOnDelete);
        this.bucket = new aws.s3.Bucket(
            `${name}-uploads`,
            { forceDestroy: args.bucketForceDestroy ?? false },
            { parent: this, retainOnDelete },
        );
        this.lockDownBucket(name, this.bucket, args.bucketVersioning ?? false);
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
                serverSideEncryption: { enabled: true },
                deletionProtectionEnabled: deletionProtection,
            },
            { parent: this, retainOnDelete },
        );
    }

    /** No public access of any kind, no ACLs, encryption at rest, TLS only. */
    private lockDownBucket(name: string, bucket: aws.s3.Bucket, versioning: boolean): void {
        const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
            `${name}-uploads-public-access`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            { parent: this },
        );
        new aws.s3.BucketOwnershipControls(
            `${name}-uploads-ownership`,
            { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
            { parent: this },
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-uploads-encryption`,
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
            },
            { parent: this },
        );
        // The signed-in role may not abort multipart uploads, so S3 cleans up abandoned ones.
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-uploads-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "abort-incomplete-multipart-uploads",
                        status: "Enabled",
                        filter: { prefix: "" },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { parent: this },
        );
        if (versioning) {
            new aws.s3.BucketVersioning(
                `${name}-uploads-versioning`,
                { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
                { parent: this },
            );
        }
        // A deny-only policy: it makes no principal more powerful, it refuses plain-HTTP requests
        // for every action. `s3:*` is the point here (every action), and it is a Deny.
        new aws.s3.BucketPolicy(
            `${name}-uploads-tls-only`,
            {
                bucket: bucket.id,
                policy: policyJson([
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                ]),
            },
            // One configuration change at a time per bucket: S3 can answer OperationAborted when
            // the policy and the public access block are written concurrently.
            { parent: this, dependsOn: [publicAccessBlock] },
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
