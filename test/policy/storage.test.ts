import { strict as assert } from "node:assert";
import {
    bucketHasPublicAccessBlock,
    noPublicAccessPointPolicy,
    noPublicAcl,
    noPublicBucketPolicy,
    noWebsiteHosting,
    ownershipEnforced,
    publicAccessBlockFlags,
} from "../../policy/storage";
import { FakeStackResource, runResourcePolicy, runStackPolicy, UNKNOWN, urnOf } from "../../policy/evaluate";

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const BUCKET_ACLS = ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"];
const WEBSITES = ["aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2"];
const OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls";

const flags = (change: Record<string, any> = {}) => ({ bucket: "uploads-abc1234", blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true, ...change });
const bucket = (change: Record<string, any> = {}) => ({ forceDestroy: false, ...change });

/** The TLS-only policy the program attaches: a Deny, which is never public. */
function tlsOnly(): Record<string, any> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: ["arn:aws:s3:::uploads-abc1234", "arn:aws:s3:::uploads-abc1234/*"],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

function withStatement(statement: Record<string, any>): Record<string, any> {
    const doc = tlsOnly();
    doc.Statement.push({ Sid: "Extra", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::uploads-abc1234/*", ...statement });
    return doc;
}

describe("policy s3-public-access-block-all-flags", () => {
    it("passes bucket and account blocks with all four flags true", async () => {
        assert.deepEqual((await runResourcePolicy(publicAccessBlockFlags, PAB, flags())).reported, []);
        assert.deepEqual((await runResourcePolicy(publicAccessBlockFlags, ACCOUNT_PAB, flags({ bucket: undefined }))).reported, []);
    });

    for (const flag of ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"]) {
        it(`flags ${flag} false and names the block`, async () => {
            const { reported } = await runResourcePolicy(publicAccessBlockFlags, PAB, flags({ [flag]: false }), { name: "uploads-pab" });
            assert.equal(reported.length, 1);
            assert.match(reported[0].message, new RegExp(`^Public access block uploads-pab must set .* to true; found ${flag} false\\.$`));
        });
    }

    it("treats an unset flag as false (the provider's default)", async () => {
        const { reported } = await runResourcePolicy(publicAccessBlockFlags, ACCOUNT_PAB, { blockPublicAcls: true }, { name: "account" });
        assert.match(reported[0].message, /^Account public access block account .* found ignorePublicAcls unset, blockPublicPolicy unset, restrictPublicBuckets unset\.$/);
    });

    it("reports an unknown flag instead of passing it", async () => {
        const { reported } = await runResourcePolicy(publicAccessBlockFlags, PAB, flags({ blockPublicPolicy: UNKNOWN.boolean }));
        assert.equal(reported[0].enforcementLevel, "advisory");
        assert.match(reported[0].message, /boolean value at \.blockPublicPolicy/);
    });
});

describe("policy s3-bucket-has-public-access-block", () => {
    for (const type of BUCKETS) {
        const stack = (pab: Partial<FakeStackResource> & { props?: Record<string, any> }): FakeStackResource[] => [
            { type, name: "uploads", props: { bucket: "uploads-abc1234", id: "uploads-abc1234" } },
            { type: PAB, name: "uploads-pab", props: flags(), propertyDependencies: { bucket: ["uploads"] }, dependsOn: ["uploads"], ...pab },
        ];

        it(`passes a ${type} whose block is attached through propertyDependencies.bucket`, async () => {
            assert.deepEqual((await runStackPolicy(bucketHasPublicAccessBlock, stack({}))).reported, []);
        });

        it(`matches a ${type} block by its bucket value when no dependency is recorded`, async () => {
            assert.deepEqual((await runStackPolicy(bucketHasPublicAccessBlock, stack({ propertyDependencies: {}, dependsOn: [] }))).reported, []);
        });

        it(`matches a ${type} block through dependsOn when its bucket value is unknown`, async () => {
            const result = await runStackPolicy(bucketHasPublicAccessBlock, stack({ propertyDependencies: {}, props: flags({ bucket: UNKNOWN.string }) }));
            assert.deepEqual(result.reported.filter((r) => r.enforcementLevel !== "advisory"), []);
        });

        it(`flags a ${type} without any block and names it`, async () => {
            const { reported } = await runStackPolicy(bucketHasPublicAccessBlock, stack({}).slice(0, 1));
            assert.deepEqual(
                reported.map((r) => [r.message, r.urn]),
                [[`Bucket uploads (${type}) must have a public access block with all four flags true attached (through its bucket input); found no block attached to it.`, urnOf(type, "uploads")]],
            );
        });

        it(`flags a ${type} whose block has a flag off`, async () => {
            const { reported } = await runStackPolicy(bucketHasPublicAccessBlock, stack({ props: flags({ restrictPublicBuckets: false }) }));
            assert.match(reported[0].message, /found uploads-pab with restrictPublicBuckets false\.$/);
        });
    }

    it("does not let one bucket's block protect another bucket", async () => {
        const { reported } = await runStackPolicy(bucketHasPublicAccessBlock, [
            { type: BUCKETS[0], name: "a", props: { bucket: "a-1" } },
            { type: BUCKETS[0], name: "b", props: { bucket: "b-1" } },
            { type: PAB, name: "a-pab", props: flags({ bucket: "a-1" }), propertyDependencies: { bucket: ["a"] } },
        ]);
        assert.deepEqual(reported.map((r) => r.urn), [urnOf(BUCKETS[0], "b")]);
    });

    it("accepts an account-level block with all four flags true in the same stack", async () => {
        const { reported } = await runStackPolicy(bucketHasPublicAccessBlock, [
            { type: BUCKETS[0], name: "a", props: { bucket: "a-1" } },
            { type: ACCOUNT_PAB, name: "account", props: flags({ bucket: undefined }) },
        ]);
        assert.deepEqual(reported, []);
    });

    it("matches 10,000 buckets to their blocks in linear time", async () => {
        const fakes: FakeStackResource[] = [];
        for (let i = 0; i < 5000; i++) {
            fakes.push({ type: BUCKETS[i % 2], name: `b${i}`, props: { bucket: `b${i}-x` } });
            fakes.push({ type: PAB, name: `p${i}`, props: flags({ bucket: `b${i}-x` }), propertyDependencies: { bucket: [`b${i}`] } });
        }
        fakes.push({ type: BUCKETS[0], name: "naked", props: { bucket: "naked-x" } });
        const { reported } = await runStackPolicy(bucketHasPublicAccessBlock, fakes);
        assert.deepEqual(reported.map((r) => r.urn), [urnOf(BUCKETS[0], "naked")]);
    });
});

describe("policy s3-no-public-acl", () => {
    for (const type of BUCKETS) {
        it(`passes a ${type} without ACL or with "private"`, async () => {
            assert.deepEqual((await runResourcePolicy(noPublicAcl, type, bucket())).reported, []);
            assert.deepEqual((await runResourcePolicy(noPublicAcl, type, bucket({ acl: "private" }))).reported, []);
        });

        for (const acl of ["public-read", "public-read-write", "authenticated-read"]) {
            it(`flags the inline canned ACL ${acl} on a ${type}`, async () => {
                const { reported } = await runResourcePolicy(noPublicAcl, type, bucket({ acl }), { name: "site" });
                assert.equal(reported.length, 1);
                assert.match(reported[0].message, new RegExp(`site must not use the public canned ACL "${acl}"`));
            });
        }

        it(`flags an inline grant to AllUsers on a ${type}`, async () => {
            const grants = [{ type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers", permissions: ["READ"] }];
            const { reported } = await runResourcePolicy(noPublicAcl, type, bucket({ grants }), { name: "site" });
            assert.deepEqual(reported.map((r) => r.message), ["Bucket site must not grant READ to the AllUsers group."]);
        });
    }

    for (const type of BUCKET_ACLS) {
        const aclResource = (grantee: Record<string, any>) => ({
            bucket: "b",
            accessControlPolicy: { owner: { id: "owner" }, grants: [{ grantee, permission: "READ" }] },
        });

        it(`passes a ${type} that grants only the owner`, async () => {
            assert.deepEqual((await runResourcePolicy(noPublicAcl, type, aclResource({ type: "CanonicalUser", id: "owner" }))).reported, []);
        });

        it(`flags a ${type} grant to AuthenticatedUsers (object and v6 list shapes)`, async () => {
            const acl = aclResource({ type: "Group", uri: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers" });
            for (const props of [acl, { ...acl, accessControlPolicy: [acl.accessControlPolicy] }]) {
                const { reported } = await runResourcePolicy(noPublicAcl, type, props, { name: "acl" });
                assert.deepEqual(reported.map((r) => r.message), ["Bucket ACL acl must not grant READ to the AuthenticatedUsers group."]);
            }
        });

        it(`flags a ${type} with canned ACL public-read`, async () => {
            assert.equal((await runResourcePolicy(noPublicAcl, type, { bucket: "b", acl: "public-read" })).reported.length, 1);
        });
    }

    it("flags an object uploaded with a public-read ACL", async () => {
        const { reported } = await runResourcePolicy(noPublicAcl, "aws:s3/bucketObjectv2:BucketObjectv2", { bucket: "b", key: "k", acl: "public-read" }, { name: "obj" });
        assert.match(reported[0].message, /^BucketObjectv2 obj must not use the public canned ACL "public-read"/);
    });
});

describe("policy s3-no-public-bucket-policy", () => {
    const cases: [string, string, Record<string, any>][] = [
        [BUCKET_POLICY, "policy", {}],
        [BUCKETS[0], "policy", {}],
        [BUCKETS[1], "policy", {}],
    ];
    for (const [type] of cases) {
        it(`passes a TLS-only Deny policy on ${type} as JSON text and as an object`, async () => {
            assert.deepEqual((await runResourcePolicy(noPublicBucketPolicy, type, { bucket: "b", policy: JSON.stringify(tlsOnly()) })).reported, []);
            assert.deepEqual((await runResourcePolicy(noPublicBucketPolicy, type, { bucket: "b", policy: tlsOnly() })).reported, []);
        });

        for (const principal of ["*", { AWS: "*" }, { AWS: ["arn:aws:iam::123456789012:root", "*"] }]) {
            it(`flags an Allow to ${JSON.stringify(principal)} on ${type}`, async () => {
                const policy = JSON.stringify(withStatement({ Principal: principal }));
                const { reported } = await runResourcePolicy(noPublicBucketPolicy, type, { bucket: "b", policy }, { name: "uploads" });
                assert.equal(reported.length, 1);
                assert.match(reported[0].message, /uploads must not be public: statement 2, Sid Extra allows principal/);
            });
        }
    }

    it("names the bucket for an inline policy", async () => {
        const { reported } = await runResourcePolicy(noPublicBucketPolicy, BUCKETS[0], { policy: withStatement({ Principal: "*" }) }, { name: "site" });
        assert.match(reported[0].message, /^The inline policy of bucket site must not be public/);
    });

    it("accepts an Allow to everyone pinned to a source account, a VPC endpoint or an organization", async () => {
        for (const condition of [
            { StringEquals: { "aws:SourceAccount": "123456789012" } },
            { StringEquals: { "aws:SourceVpce": ["vpce-1a2b3c4d"] } },
            { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } },
            { ArnLike: { "aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE" } },
            { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
        ]) {
            const policy = withStatement({ Principal: { AWS: "*" }, Condition: condition });
            assert.deepEqual((await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { policy })).reported, [], JSON.stringify(condition));
        }
    });

    it("does not accept conditions that do not pin the caller", async () => {
        for (const condition of [
            { Bool: { "aws:SecureTransport": "true" } },
            { StringLike: { "aws:SourceArn": "arn:aws:cloudfront::*" } },
            { StringNotEquals: { "aws:SourceAccount": "123456789012" } },
            { StringEqualsIfExists: { "aws:SourceAccount": "123456789012" } },
            { IpAddress: { "aws:SourceIp": "0.0.0.0/0" } },
            { "ForAllValues:StringEquals": { "aws:PrincipalOrgID": ["o-abc123"] } },
        ]) {
            const policy = withStatement({ Principal: "*", Condition: condition });
            assert.equal((await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { policy })).reported.length, 1, JSON.stringify(condition));
        }
    });

    it("flags Allow with NotPrincipal, which grants everyone else", async () => {
        const policy = withStatement({ NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" } });
        assert.match((await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { policy })).reported[0].message, /allows everyone except NotPrincipal/);
    });

    it("flags a policy that is not valid JSON", async () => {
        const { reported } = await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { policy: "{ nope" }, { name: "bad" });
        assert.match(reported[0].message, /^Bucket policy bad must be a valid policy document so it can be checked; it is not valid JSON/);
    });

    it("reports an unknown policy at preview, and fails closed with failOnUnknown", async () => {
        const advisory = await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { bucket: "b", policy: UNKNOWN.string });
        assert.deepEqual(advisory.reported.map((r) => r.enforcementLevel), ["advisory"]);
        assert.match(advisory.reported[0].message, /Could not check policy of aws:s3\/bucketPolicy:BucketPolicy subject at preview/);
        const closed = await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { bucket: "b", policy: UNKNOWN.string }, { config: { failOnUnknown: true } });
        assert.deepEqual(closed.reported.map((r) => r.enforcementLevel), [undefined]);
    });

    it("checks the known parts of a document whose resource ARN is unknown", async () => {
        const doc = withStatement({ Principal: "*" });
        doc.Statement[0].Resource = UNKNOWN.string;
        doc.Statement[1].Resource = UNKNOWN.string;
        const { reported } = await runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { policy: doc });
        assert.deepEqual(reported.map((r) => r.enforcementLevel), [undefined]);
    });
});

describe("policy s3-no-website-hosting", () => {
    for (const type of BUCKETS) {
        it(`passes a ${type} without website`, async () => {
            assert.deepEqual((await runResourcePolicy(noWebsiteHosting, type, bucket())).reported, []);
        });

        it(`flags a ${type} with website as a v7 object and as a v6 list`, async () => {
            for (const website of [{ indexDocument: "index.html" }, [{ indexDocument: "index.html" }]]) {
                const { reported } = await runResourcePolicy(noWebsiteHosting, type, bucket({ website }), { name: "site" });
                assert.equal(reported.length, 1);
                assert.match(reported[0].message, /^Bucket site must not configure website hosting/);
            }
        });
    }

    for (const type of WEBSITES) {
        it(`flags every ${type}`, async () => {
            const { reported } = await runResourcePolicy(noWebsiteHosting, type, { bucket: "b", indexDocument: { suffix: "index.html" } }, { name: "site-web" });
            assert.match(reported[0].message, /^Bucket website configuration site-web must not exist/);
        });
    }
});

describe("policy s3-bucket-owner-enforced", () => {
    it("passes BucketOwnerEnforced (object and v6 list shapes)", async () => {
        for (const rule of [{ objectOwnership: "BucketOwnerEnforced" }, [{ objectOwnership: "BucketOwnerEnforced" }]]) {
            assert.deepEqual((await runResourcePolicy(ownershipEnforced, OWNERSHIP, { bucket: "b", rule })).reported, []);
        }
    });

    for (const objectOwnership of ["BucketOwnerPreferred", "ObjectWriter"]) {
        it(`flags ${objectOwnership}, which keeps ACLs working`, async () => {
            const { reported } = await runResourcePolicy(ownershipEnforced, OWNERSHIP, { bucket: "b", rule: { objectOwnership } }, { name: "own" });
            assert.deepEqual(reported.map((r) => r.message), [`Ownership controls own must set objectOwnership to BucketOwnerEnforced (ACLs disabled), found ${objectOwnership}.`]);
        });
    }
});

describe("policy s3-no-public-access-point-policy", () => {
    const everyone = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] });
    const privatePolicy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/reader" }, Action: "s3:GetObject", Resource: "*" }] });

    it("passes access point, Object Lambda and Multi-Region Access Point policies that name fixed principals", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [
            { type: "aws:s3/accessPoint:AccessPoint", name: "ap", props: { bucket: "b", policy: privatePolicy } },
            { type: "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy", name: "olap", props: { name: "olap", policy: privatePolicy } },
            { type: "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy", name: "mrap", props: { details: { name: "global", policy: privatePolicy } } },
        ]);
        assert.deepEqual(reported, []);
    });

    it("flags public Object Lambda and Multi-Region Access Point policies, on their own resources", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [
            { type: "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy", name: "olap", props: { name: "olap", policy: everyone } },
            { type: "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy", name: "mrap", props: { details: [{ name: "global", policy: everyone }] } },
        ]);
        assert.deepEqual(
            reported.map((r) => [r.urn, r.message.split(":")[0]]),
            [
                [urnOf("aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy", "olap"), "Object Lambda access point policy olap must not be public"],
                [urnOf("aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy", "mrap"), "Multi-Region Access Point policy mrap must not be public"],
            ],
        );
    });

    it("judges an attached policy whose access point is not in the stack as an Internet access point's", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [
            { type: "aws:s3control/accessPointPolicy:AccessPointPolicy", name: "ap-policy", props: { accessPointArn: "arn:aws:s3:us-east-1:123456789012:accesspoint/elsewhere", policy: everyone } },
        ]);
        assert.match(reported[0].message, /^Access point policy ap-policy must not be public/);
    });

    it("matches an attached policy to its VPC access point by ARN when no dependency is recorded", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [
            { type: "aws:s3/accessPoint:AccessPoint", name: "ap", props: { bucket: "b", arn: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap", vpcConfiguration: { vpcId: "vpc-1" } } },
            { type: "aws:s3control/accessPointPolicy:AccessPointPolicy", name: "ap-policy", props: { accessPointArn: "arn:aws:s3:us-east-1:123456789012:accesspoint/ap", policy: everyone } },
        ]);
        assert.deepEqual(reported, []);
    });

    it("reports an access point policy unknown at preview as advisory", async () => {
        const { reported } = await runStackPolicy(noPublicAccessPointPolicy, [{ type: "aws:s3/accessPoint:AccessPoint", name: "ap", props: { bucket: "b", policy: UNKNOWN.string } }]);
        assert.deepEqual(reported.map((r) => r.enforcementLevel), ["advisory"]);
    });
});

describe("policy s3-no-website-hosting on @pulumi/aws v6 shapes", () => {
    it("flags v6 BucketV2's websites list", async () => {
        const { reported } = await runResourcePolicy(noWebsiteHosting, "aws:s3/bucketV2:BucketV2", { websites: [{ indexDocument: "index.html" }] }, { name: "site" });
        assert.deepEqual(reported.map((r) => r.message), ["Bucket site must not configure website hosting (websites is set): website endpoints serve objects over plain HTTP without authentication."]);
    });
});
