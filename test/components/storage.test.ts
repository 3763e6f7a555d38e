import { strict as assert } from "node:assert";
import { named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun, stackSetting } from "../support/program";

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

        it("turns on point-in-time recovery and encryption, and deletion protection as the stack says", () => {
            const table = single(run, "aws:dynamodb/table:Table");
            assert.deepEqual(table.inputs.pointInTimeRecovery, { enabled: true });
            assert.deepEqual(table.inputs.serverSideEncryption, { enabled: true });
            assert.equal(table.inputs.deletionProtectionEnabled, stackSetting(run, "deletionProtection"));
            assert.equal(table.options.retainOnDelete, stackSetting(run, "retainOnDelete"));
        });

        it("blocks every kind of public access to the bucket", () => {
            const bucket = single(run, "aws:s3/bucket:Bucket");
            const block = single(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
            assert.equal(block.inputs.bucket, bucket.id);
            for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
                assert.equal(block.inputs[flag], true, `${flag} must be true`);
            }
        });

        it("disables ACLs, encrypts by default and has no inline ACL, grant, policy or website", () => {
            const bucket = single(run, "aws:s3/bucket:Bucket");
            const ownership = single(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls");
            assert.equal(ownership.inputs.bucket, bucket.id);
            assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
            const encryption = single(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
            assert.equal(encryption.inputs.bucket, bucket.id);
            assert.equal(encryption.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
            for (const field of ["acl", "grants", "policy", "website"]) {
                assert.equal(bucket.inputs[field], undefined, `bucket must not set ${field}`);
            }
            assert.equal(ofType(run, "aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2").length, 0);
            assert.equal(ofType(run, "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration").length, 0);
        });

        it("denies every request that does not use TLS, and allows nothing", () => {
            const bucket = single(run, "aws:s3/bucket:Bucket");
            const policy = single(run, "aws:s3/bucketPolicy:BucketPolicy");
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

        it("allows direct browser uploads from the stack's origins and exposes ETag for multipart uploads", () => {
            const cors = single(run, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration");
            assert.equal(cors.inputs.bucket, single(run, "aws:s3/bucket:Bucket").id);
            assert.equal(cors.inputs.corsRules.length, 1);
            const [rule] = cors.inputs.corsRules;
            assert.deepEqual([...rule.allowedMethods].sort(), ["DELETE", "GET", "HEAD", "POST", "PUT"]);
            assert.deepEqual(rule.allowedOrigins, stackSetting(run, "corsAllowedOrigins"));
            assert.ok(rule.exposeHeaders.includes("ETag"));
            assert.ok(rule.allowedHeaders.includes("authorization"));
        });

        it("aborts abandoned multipart uploads, since users may not abort them", () => {
            const lifecycle = single(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
            assert.deepEqual(lifecycle.inputs.rules[0].abortIncompleteMultipartUpload, { daysAfterInitiation: 7 });
            assert.equal(lifecycle.inputs.rules[0].status, "Enabled");
        });

        it("versions, force-destroys and retains the bucket as the stack says", () => {
            const bucket = single(run, "aws:s3/bucket:Bucket");
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
