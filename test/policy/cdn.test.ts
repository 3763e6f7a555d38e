import { strict as assert } from "node:assert";
import { minimumTls, responseHeadersPolicy, s3OriginAccessControl, serviceSourceCondition, viewerHttps } from "../../policy/cdn";
import { FakeStackResource, runResourcePolicy, runStackPolicy, UNKNOWN, urnOf } from "../../policy/evaluate";
import { noPublicBucketPolicy } from "../../policy/storage";

const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const OAC = "aws:cloudfront/originAccessControl:OriginAccessControl";
const BUCKET = "aws:s3/bucket:Bucket";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const WEBSITE = "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration";

const BUCKET_NAME = "site-content-abc1234";
const DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE";
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0d5b1c2e-1234-4abc-9def-0123456789ab";

/** A distribution as the program declares one: OAC origin, redirect-to-https, headers policy, default certificate. */
const distribution = (change: Record<string, any> = {}) => ({
    enabled: true,
    origins: [{ originId: "site", domainName: `${BUCKET_NAME}.s3.us-east-1.amazonaws.com`, originAccessControlId: "E2QWRUHEXAMPLE" }],
    defaultCacheBehavior: { targetOriginId: "site", viewerProtocolPolicy: "redirect-to-https", allowedMethods: ["GET", "HEAD"], cachedMethods: ["GET", "HEAD"], responseHeadersPolicyId: "67f7725c-0000-4000-a000-000000000000" },
    viewerCertificate: { cloudfrontDefaultCertificate: true },
    ...change,
});
const behavior = (change: Record<string, any>) => ({ defaultCacheBehavior: { ...distribution().defaultCacheBehavior, ...change } });
const customCertificate = (minimumProtocolVersion?: string) => ({ viewerCertificate: { acmCertificateArn: CERTIFICATE, sslSupportMethod: "sni-only", ...(minimumProtocolVersion ? { minimumProtocolVersion } : {}) } });

/**
 * The bucket policy AWS documents for OAC ("Restricting access to an Amazon S3 origin", CloudFront
 * Developer Guide): the service principal, s3:GetObject on the objects, and AWS:SourceArn = the distribution.
 */
function oacPolicy(condition: Record<string, any> | null = { StringEquals: { "AWS:SourceArn": DISTRIBUTION_ARN } }): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AllowCloudFrontServicePrincipalReadOnly",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:GetObject",
                Resource: `arn:aws:s3:::${BUCKET_NAME}/*`,
                ...(condition ? { Condition: condition } : {}),
            },
        ],
    });
}

/** A stack like the program's: the bucket, its block and policy, the OAC, the distribution. */
function stack(change: { distribution?: Record<string, any>; oac?: Record<string, any>; policy?: string; bucket?: Record<string, any>; extra?: FakeStackResource[] } = {}): FakeStackResource[] {
    return [
        { type: BUCKET, name: "site-content", props: { id: BUCKET_NAME, bucket: BUCKET_NAME, bucketRegionalDomainName: `${BUCKET_NAME}.s3.us-east-1.amazonaws.com`, bucketDomainName: `${BUCKET_NAME}.s3.amazonaws.com`, ...change.bucket } },
        { type: PAB, name: "site-content-public-access", props: { bucket: BUCKET_NAME, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, propertyDependencies: { bucket: ["site-content"] } },
        { type: BUCKET_POLICY, name: "site-content-policy", props: { bucket: BUCKET_NAME, policy: change.policy ?? oacPolicy() }, propertyDependencies: { bucket: ["site-content"] } },
        { type: OAC, name: "site-oac", props: { id: "E2QWRUHEXAMPLE", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4", ...change.oac } },
        { type: DISTRIBUTION, name: "site-cdn", props: { id: "EDFDVBD6EXAMPLE", arn: DISTRIBUTION_ARN, ...distribution(change.distribution) }, propertyDependencies: { origins: ["site-content", "site-oac"] } },
        ...(change.extra ?? []),
    ];
}

const messages = async (run: Promise<{ reported: { message: string }[] }>) => (await run).reported.map((r) => r.message);

describe("policy cloudfront-s3-origin-access-control", () => {
    it("passes an S3 origin read through OAC from a private bucket (the program's shape, AWS's documented setup)", async () => {
        assert.deepEqual(await messages(runStackPolicy(s3OriginAccessControl, stack())), []);
    });

    it("cdk-nag AwsSolutions-CFR7 and Security Hub CloudFront.13: an S3 origin without an origin access control fails", async () => {
        const origins = [{ originId: "site", domainName: `${BUCKET_NAME}.s3.us-east-1.amazonaws.com` }];
        const { reported } = await runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins } }));
        assert.deepEqual(
            reported.map((r) => [r.message, r.urn]),
            [[`Distribution site-cdn must set originAccessControlId on origin "site" (${BUCKET_NAME}.s3.us-east-1.amazonaws.com): without Origin Access Control the bucket behind it is reachable only if it is public.`, urnOf(DISTRIBUTION, "site-cdn")]],
        );
    });

    it("cdk-nag AwsSolutions-CFR7: the legacy origin access identity fails, even for a bucket outside the stack", async () => {
        const origins = [{ originId: "legacy", domainName: "other-bucket.s3.amazonaws.com", s3OriginConfig: { originAccessIdentity: "origin-access-identity/cloudfront/E127EXAMPLE51Z" } }];
        const reported = await messages(runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins } })));
        assert.equal(reported.length, 2);
        assert.match(reported[0], /^Distribution site-cdn must read origin "legacy" through an origin access control, not the legacy origin access identity origin-access-identity\/cloudfront\/E127EXAMPLE51Z/);
        assert.match(reported[1], /must set originAccessControlId on origin "legacy"/);
    });

    it("AWS docs (an S3 website endpoint cannot use OAC): a website endpoint as origin fails, by its name or as a stack bucket's", async () => {
        const byName = [{ originId: "www", domainName: `${BUCKET_NAME}.s3-website-us-east-1.amazonaws.com`, customOriginConfig: { originProtocolPolicy: "http-only", httpPort: 80, httpsPort: 443, originSslProtocols: ["TLSv1.2"] } }];
        assert.match((await messages(runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins: byName } }))))[0], /must not use the S3 website endpoint site-content-abc1234\.s3-website-us-east-1\.amazonaws\.com as origin "www"/);
        const dotted = [{ originId: "www", domainName: "site.s3-website.eu-central-1.amazonaws.com" }];
        assert.match((await messages(runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins: dotted } }))))[0], /must not use the S3 website endpoint/);
        const fromStack = [{ originId: "www", domainName: "notes-www.example.com" }];
        const reported = await messages(runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins: fromStack }, bucket: { websiteEndpoint: "notes-www.example.com" } })));
        assert.match(reported[0], /must not use the S3 website endpoint notes-www\.example\.com/);
    });

    it("fails a public bucket behind the origin: a public statement in its policy, or website hosting", async () => {
        const open = JSON.parse(oacPolicy());
        open.Statement.push({ Sid: "Everyone", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET_NAME}/*` });
        assert.deepEqual(await messages(runStackPolicy(s3OriginAccessControl, stack({ policy: JSON.stringify(open) }))), [
            `Distribution site-cdn must serve origin "site" from a private bucket; bucket site-content behind it is not: bucket policy site-content-policy is public.`,
        ]);
        const website: FakeStackResource = { type: WEBSITE, name: "site-www", props: { bucket: BUCKET_NAME, indexDocument: { suffix: "index.html" } } };
        assert.match((await messages(runStackPolicy(s3OriginAccessControl, stack({ extra: [website] }))))[0], /bucket site-content behind it is not: website configuration site-www serves it\.$/);
        assert.match((await messages(runStackPolicy(s3OriginAccessControl, stack({ bucket: { acl: "public-read" } }))))[0], /its ACL is "public-read"\.$/);
    });

    it("fails an origin access control that never signs, or is not for S3", async () => {
        assert.deepEqual(await messages(runStackPolicy(s3OriginAccessControl, stack({ oac: { signingBehavior: "never" } }))), [
            `Distribution site-cdn reads origin "site" through origin access control site-oac, which must sign requests (signingBehavior always), found never.`,
        ]);
        assert.match((await messages(runStackPolicy(s3OriginAccessControl, stack({ oac: { originAccessControlOriginType: "mediastore" } }))))[0], /originAccessControlOriginType must be s3, found "mediastore"/);
    });

    it("finds the origin access control through the origins' dependency when its id is not known", async () => {
        const resources = stack({ oac: { signingBehavior: "never" } });
        delete resources.find((r) => r.type === OAC)!.props.id;
        assert.equal((await messages(runStackPolicy(s3OriginAccessControl, resources))).length, 1);
    });

    it("ignores an origin that is not S3 (an API or a load balancer)", async () => {
        const origins = [{ originId: "api", domainName: "abc123.execute-api.us-east-1.amazonaws.com", customOriginConfig: { originProtocolPolicy: "https-only", httpPort: 80, httpsPort: 443, originSslProtocols: ["TLSv1.2"] } }];
        assert.deepEqual(await messages(runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins } }))), []);
    });

    it("reports origins that are unknown at preview instead of passing them", async () => {
        const { reported } = await runStackPolicy(s3OriginAccessControl, stack({ distribution: { origins: UNKNOWN.array } }));
        assert.equal(reported.length, 1);
        assert.equal(reported[0].enforcementLevel, "advisory");
        assert.match(reported[0].message, /Could not check origins of aws:cloudfront\/distribution:Distribution site-cdn at preview/);
    });
});

describe("policy cloudfront-viewer-https", () => {
    it("passes redirect-to-https and https-only", async () => {
        assert.deepEqual(await messages(runResourcePolicy(viewerHttps, DISTRIBUTION, distribution())), []);
        assert.deepEqual(await messages(runResourcePolicy(viewerHttps, DISTRIBUTION, distribution(behavior({ viewerProtocolPolicy: "https-only" })))), []);
    });

    it("Checkov CKV_AWS_34, trivy AWS-0012, Security Hub CloudFront.3: allow-all in the default behavior fails and names the distribution", async () => {
        assert.deepEqual(await messages(runResourcePolicy(viewerHttps, DISTRIBUTION, distribution(behavior({ viewerProtocolPolicy: "allow-all" })), { name: "site-cdn" })), [
            `Distribution site-cdn must set viewerProtocolPolicy to redirect-to-https or https-only in the default cache behavior, found "allow-all": allow-all serves the site, its scripts and its cookies over plain HTTP.`,
        ]);
    });

    it("Checkov CKV_AWS_34: allow-all in an ordered cache behavior fails too, naming its path pattern", async () => {
        const ordered = { orderedCacheBehaviors: [{ pathPattern: "/assets/*", targetOriginId: "site", viewerProtocolPolicy: "allow-all" }] };
        const reported = await messages(runResourcePolicy(viewerHttps, DISTRIBUTION, distribution(ordered)));
        assert.equal(reported.length, 1);
        assert.match(reported[0], /in cache behavior 1 \("\/assets\/\*"\), found "allow-all"/);
    });
});

describe("policy cloudfront-minimum-tls", () => {
    for (const version of ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]) {
        it(`Checkov CKV_AWS_174, trivy AWS-0013: passes ${version} with a custom certificate`, async () => {
            assert.deepEqual(await messages(runResourcePolicy(minimumTls, DISTRIBUTION, distribution(customCertificate(version)))), []);
        });
    }

    for (const version of ["TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "SSLv3"]) {
        it(`Checkov CKV_AWS_174, trivy AWS-0013, cdk-nag AwsSolutions-CFR4: fails ${version} with a custom certificate`, async () => {
            const reported = await messages(runResourcePolicy(minimumTls, DISTRIBUTION, distribution(customCertificate(version)), { name: "site-cdn" }));
            assert.deepEqual(reported, [`Distribution site-cdn uses a custom certificate and must set viewerCertificate.minimumProtocolVersion to TLSv1.2_2021, TLSv1.2_2025, TLSv1.3_2025; found "${version}".`]);
        });
    }

    it("fails a custom certificate that leaves the minimum unset (the provider's default is TLSv1), ACM or IAM", async () => {
        assert.match((await messages(runResourcePolicy(minimumTls, DISTRIBUTION, distribution(customCertificate()))))[0], /found "unset \(the provider's default, TLSv1\)"/);
        const iam = { viewerCertificate: { iamCertificateId: "ASCACKCEVSQ6C2EXAMPLE", sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1" } };
        assert.equal((await messages(runResourcePolicy(minimumTls, DISTRIBUTION, distribution(iam)))).length, 1);
    });

    it("trivy AWS-0013 (its good example) and AWS docs: the default *.cloudfront.net certificate is exempt, since it cannot set a minimum", async () => {
        const defaultCertificate = { viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1" } };
        assert.deepEqual(await messages(runResourcePolicy(minimumTls, DISTRIBUTION, distribution(defaultCertificate))), []);
    });
});

describe("policy cloudfront-response-headers-policy", () => {
    it("passes a distribution whose every behavior attaches a response headers policy", async () => {
        const ordered = { orderedCacheBehaviors: [{ pathPattern: "/api/*", targetOriginId: "site", viewerProtocolPolicy: "https-only", responseHeadersPolicyId: "p-2" }] };
        assert.deepEqual(await messages(runResourcePolicy(responseHeadersPolicy, DISTRIBUTION, distribution(ordered))), []);
    });

    it("Checkov CKV2_AWS_32: reports a behavior without one, as advisory", async () => {
        const withoutHeaders = distribution(behavior({ responseHeadersPolicyId: undefined }));
        assert.deepEqual(await messages(runResourcePolicy(responseHeadersPolicy, DISTRIBUTION, withoutHeaders, { name: "site-cdn" })), [
            "Distribution site-cdn should attach a response headers policy (responseHeadersPolicyId) to the default cache behavior: without one, responses carry no HSTS, nosniff, frame or Content-Security-Policy header.",
        ]);
        assert.equal(responseHeadersPolicy.enforcementLevel, "advisory");
    });
});

describe("the OAC bucket policy and the pack's meaning of public", () => {
    it("AWS docs: the documented OAC policy (a fixed AWS:SourceArn) is not public, and raises no confused-deputy note", async () => {
        assert.deepEqual(await messages(runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { bucket: BUCKET_NAME, policy: oacPolicy() })), []);
        assert.deepEqual(await messages(runResourcePolicy(serviceSourceCondition, BUCKET_POLICY, { bucket: BUCKET_NAME, policy: oacPolicy() })), []);
    });

    it("the same policy without AWS:SourceArn (SST's access: cloudfront) is not public, but is an advisory confused-deputy finding", async () => {
        assert.deepEqual(await messages(runResourcePolicy(noPublicBucketPolicy, BUCKET_POLICY, { bucket: BUCKET_NAME, policy: oacPolicy(null) })), []);
        const reported = await messages(runResourcePolicy(serviceSourceCondition, BUCKET_POLICY, { bucket: BUCKET_NAME, policy: oacPolicy(null) }, { name: "site-content-policy" }));
        assert.deepEqual(reported, [
            'Bucket policy site-content-policy should fix aws:SourceArn (or aws:SourceAccount) in statement 1, Sid AllowCloudFrontServicePrincipalReadOnly, which grants cloudfront.amazonaws.com "s3:GetObject": ' +
                "without it the service acts for any resource of any account, e.g. anyone's CloudFront distribution could read this bucket (the confused deputy). It is not public under AWS's definition (a service principal is fixed).",
        ]);
        assert.equal(serviceSourceCondition.enforcementLevel, "advisory");
    });

    it("accepts a fixed aws:SourceAccount, and reads the inline policy of a bucket too", async () => {
        assert.deepEqual(await messages(runResourcePolicy(serviceSourceCondition, BUCKET_POLICY, { policy: oacPolicy({ StringEquals: { "aws:SourceAccount": "123456789012" } }) })), []);
        assert.equal((await messages(runResourcePolicy(serviceSourceCondition, BUCKET, { policy: oacPolicy(null) }))).length, 1);
    });

    it("still reports a source that is not fixed: a wildcard ARN, a negated operator", async () => {
        for (const condition of [{ ArnLike: { "AWS:SourceArn": "arn:aws:cloudfront::*:distribution/*" } }, { StringNotEquals: { "AWS:SourceArn": DISTRIBUTION_ARN } }]) {
            assert.equal((await messages(runResourcePolicy(serviceSourceCondition, BUCKET_POLICY, { policy: oacPolicy(condition) }))).length, 1, JSON.stringify(condition));
        }
    });

    it("leaves Deny statements and grants to accounts alone", async () => {
        const doc = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }, { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: "*" }] };
        assert.deepEqual(await messages(runResourcePolicy(serviceSourceCondition, BUCKET_POLICY, { policy: JSON.stringify(doc) })), []);
    });
});
