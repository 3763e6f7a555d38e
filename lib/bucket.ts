import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * What every bucket of the stack gets, the uploads and the site's alike: all four Block Public
 * Access flags, ACLs off (`BucketOwnerEnforced`, which Origin Access Control also needs) and SSE-S3
 * with a bucket key. Children are `<prefix>-public-access`, `-ownership` and `-encryption`. Returns
 * the public access block: a bucket policy waits for it, since S3 can answer OperationAborted when
 * the two are written concurrently.
 */
export function lockDownBucket(prefix: string, bucket: aws.s3.Bucket, parent: pulumi.Resource): aws.s3.BucketPublicAccessBlock {
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
        `${prefix}-public-access`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        { parent },
    );
    new aws.s3.BucketOwnershipControls(`${prefix}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent });
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${prefix}-encryption`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
        { parent },
    );
    return publicAccessBlock;
}

/**
 * The statement that refuses plain-HTTP requests to a bucket and its objects. A Deny: it makes no
 * principal more powerful, and `s3:*` is the point (every action).
 */
export function denyInsecureTransport(bucket: aws.s3.Bucket): aws.iam.PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
