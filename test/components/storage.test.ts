import { strict as assert } from "node:assert";
import { named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun, stackSetting } from "../support/program";

/**
 * Every request header Amplify Storage v6 can send to S3 from a browser (amplify-js,
 * packages/storage/src/providers/s3/utils/client/): `serializeObjectConfigsToHeaders` in
 * utils/serializeHelpers.ts (ACL, cache-control, content-disposition, content-language,
 * content-encoding, content-type, expires, tagging, x-amz-meta-*), s3data/putObject.ts
 * (content-md5, checksum, expected owner, If-None-Match for `preventOverwrite`),
 * s3data/createMultipartUpload.ts and completeMultipartUpload.ts (checksum algorithm and type),
 * s3data/copyObject.ts, the SigV4 signer, and @aws-amplify/core's retry and user-agent middleware.
 */
const AMPLIFY_STORAGE_REQUEST_HEADERS = [
    "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-user-agent",
    "amz-sdk-invocation-id", "amz-sdk-request",
    "x-amz-acl", "cache-control", "content-disposition", "content-language", "content-encoding", "content-type",
    "expires", "x-amz-tagging", "x-amz-meta-author",
    "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-algorithm", "x-amz-checksum-type",
    "x-amz-expected-bucket-owner", "If-None-Match",
    "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-copy-source-if-match",
];
/** Response headers Amplify's documentation asks a bucket's CORS rule to expose. */
const AMPLIFY_EXPOSE_HEADERS = ["x-amz-server-side-encryption", "x-amz-request-id", "x-amz-id-2", "ETag"];

/** S3's CORS match of a request header against an AllowedHeader: case-insensitive, one `*` wildcard. */
function allowedBy(patterns: string[], header: string): boolean {
    return patterns.some((pattern) => {
        const [head, tail] = pattern.toLowerCase().split("*");
        const name = header.toLowerCase();
        return tail === undefined ? name === head : name.startsWith(head) && name.endsWith(tail) && name.length >= head.length + tail.length;
    });
}

for (const stack of STACKS) {
    describe(`NotesStorage (${stack} stack)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("keys notes by userId (hash) and noteId (range), on demand", () => {
            const table = single(run, "aws:dynamodb/table:Table");
            assert.equal(table.inputs.hashKey, "userId");
            assert.equal(table.inputs.rangeKey, "noteId");
            assert.deepEqual(table.inputs.attributes, [
                { name: "userId", type: "S" },
                { name: "noteId", type: "S" },
            ]);
            assert.equal(table.inputs.billingMode, "PAY_PER_REQUEST");
        });

        it("turns on point-in-time recovery, encrypts with the AWS-owned key, and deletion protection as the stack says", () => {
            const table = single(run, "aws:dynamodb/table:Table");
            assert.deepEqual(table.inputs.pointInTimeRecovery, { enabled: true });
            // enabled: false is DynamoDB's AWS-owned key; true without a key ARN is the AWS-managed KMS key.
            assert.deepEqual(table.inputs.serverSideEncryption, { enabled: false });
            assert.equal(table.inputs.deletionProtectionEnabled, stackSetting(run, "deletionProtection"));
            assert.equal(table.options.retainOnDelete, stackSetting(run, "retainOnDelete"));
        });

        it("blocks every kind of public access to the bucket", () => {
            const bucket = named(run, "notes-storage-uploads");
            const block = named(run, "notes-storage-uploads-public-access");
            assert.equal(block.inputs.bucket, bucket.id);
            for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
                assert.equal(block.inputs[flag], true, `${flag} must be true`);
            }
        });

        it("disables ACLs, encrypts by default and has no inline ACL, grant, policy or website", () => {
            const bucket = named(run, "notes-storage-uploads");
            const ownership = named(run, "notes-storage-uploads-ownership");
            assert.equal(ownership.inputs.bucket, bucket.id);
            assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
            const encryption = named(run, "notes-storage-uploads-encryption");
            assert.equal(encryption.inputs.bucket, bucket.id);
            assert.equal(encryption.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
            for (const field of ["acl", "grants", "policy", "website"]) {
                assert.equal(bucket.inputs[field], undefined, `bucket must not set ${field}`);
            }
            assert.equal(ofType(run, "aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2").length, 0);
            assert.equal(ofType(run, "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration").length, 0);
        });

        it("denies every request that does not use TLS, and allows nothing", () => {
            const bucket = named(run, "notes-storage-uploads");
            const policy = named(run, "notes-storage-uploads-tls-only");
            assert.equal(policy.inputs.bucket, bucket.id);
            assert.deepEqual(policyStatements(policy.inputs.policy), [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [bucket.state.arn, `${bucket.state.arn}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ]);
        });

        it("allows direct browser uploads from the stack's origins and the hosted site with every header Amplify Storage v6 sends", () => {
            const cors = single(run, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration");
            assert.equal(cors.inputs.bucket, named(run, "notes-storage-uploads").id);
            assert.equal(cors.inputs.corsRules.length, 1);
            const [rule] = cors.inputs.corsRules;
            assert.deepEqual([...rule.allowedMethods].sort(), ["DELETE", "GET", "HEAD", "POST", "PUT"]);
            assert.deepEqual(rule.allowedOrigins, [...(stackSetting(run, "corsAllowedOrigins") as string[]), `https://${named(run, "notes-site-cdn").state.domainName}`]);
            const refused = AMPLIFY_STORAGE_REQUEST_HEADERS.filter((header) => !allowedBy(rule.allowedHeaders, header));
            assert.deepEqual(refused, [], "refused at preflight");
            assert.ok(!rule.allowedHeaders.includes("*"), "a bare * would not cover authorization in browsers");
        });

        it("exposes ETag (multipart uploads) and the headers Amplify's documentation lists", () => {
            const [rule] = single(run, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").inputs.corsRules;
            const exposed = rule.exposeHeaders.map((header: string) => header.toLowerCase());
            assert.deepEqual(AMPLIFY_EXPOSE_HEADERS.filter((header) => !exposed.includes(header.toLowerCase())), []);
        });

        it("aborts multipart uploads nobody completed or aborted after 7 days", () => {
            const lifecycle = single(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
            assert.equal(lifecycle.inputs.bucket, named(run, "notes-storage-uploads").id);
            const rule = lifecycle.inputs.rules.find((r: { id: string }) => r.id === "abort-incomplete-multipart-uploads");
            assert.deepEqual(rule, {
                id: "abort-incomplete-multipart-uploads",
                status: "Enabled",
                filter: { prefix: "" },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            });
        });

        it("expires noncurrent versions after the stack's days and removes expired delete markers when versioning is on", () => {
            const lifecycle = single(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
            const rule = lifecycle.inputs.rules.find((r: { id: string }) => r.id === "expire-noncurrent-versions");
            if (!stackSetting(run, "bucketVersioning")) {
                assert.equal(rule, undefined, "no versions to expire without versioning");
                return;
            }
            assert.deepEqual(rule, {
                id: "expire-noncurrent-versions",
                status: "Enabled",
                filter: { prefix: "" },
                noncurrentVersionExpiration: { noncurrentDays: stackSetting(run, "noncurrentVersionExpirationDays") },
                expiration: { expiredObjectDeleteMarker: true },
            });
            assert.ok(lifecycle.dependencies.includes(single(run, "aws:s3/bucketVersioning:BucketVersioning").urn), "versioning is configured first");
        });

        it("versions, force-destroys and retains the bucket as the stack says", () => {
            const bucket = named(run, "notes-storage-uploads");
            assert.equal(bucket.inputs.forceDestroy, stackSetting(run, "bucketForceDestroy"));
            assert.equal(bucket.options.retainOnDelete, stackSetting(run, "retainOnDelete"));
            const versioning = ofType(run, "aws:s3/bucketVersioning:BucketVersioning");
            if (stackSetting(run, "bucketVersioning")) {
                assert.equal(versioning.length, 1);
                assert.deepEqual(versioning[0].inputs.versioningConfiguration, { status: "Enabled" });
            } else {
                assert.equal(versioning.length, 0);
            }
            assert.equal(named(run, "notes-storage-uploads").id, bucket.id);
        });
    });
}

describe("NotesStorage lifecycle settings", () => {
    it("expires noncurrent versions after the days the stack sets, on any stack that turns versioning on", async () => {
        const run = await stackRun("dev", { "notes-infra:bucketVersioning": "true", "notes-infra:noncurrentVersionExpirationDays": "90" });
        const lifecycle = single(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
        const rule = lifecycle.inputs.rules.find((r: { id: string }) => r.id === "expire-noncurrent-versions");
        assert.deepEqual(rule.noncurrentVersionExpiration, { noncurrentDays: 90 });
        assert.deepEqual(rule.expiration, { expiredObjectDeleteMarker: true });
    });
});
