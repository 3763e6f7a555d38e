/**
 * Synthetic stacks for the policy benchmark: `size` resources in units of five (a bucket, its
 * public access block, its bucket policy, an HTTP API route, an IAM role trusting Cognito), with
 * the URNs, inputs, outputs and dependencies the mock engine records. Every 20th unit is
 * deliberately non-compliant (a weak access block and an unauthenticated route), so the pack has
 * something to report at every size and its reporting path is part of what is timed.
 */
import type { ResourceRecord } from "../../policy/evaluate";

export const UNIT = ["bucket", "publicAccessBlock", "bucketPolicy", "route", "role"] as const;
export const VIOLATING_UNIT_EVERY = 20;

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

function urn(type: string, name: string): string {
    return `urn:pulumi:bench::synthetic::${type}::${name}`;
}

function record(type: string, name: string, id: string, inputs: Record<string, any>, state: Record<string, any>, deps: Record<string, string[]> = {}): ResourceRecord {
    const dependencies = [...new Set(Object.values(deps).flat())];
    return { type, name, urn: urn(type, name), id, custom: true, inputs, state: { ...inputs, ...state }, dependencies, propertyDependencies: deps };
}

/** A stack of exactly `size` resources (a partial last unit when `size` is not a multiple of five). */
export function syntheticStack(size: number): ResourceRecord[] {
    const resources: ResourceRecord[] = [];
    for (let unit = 0; resources.length < size; unit++) {
        const violating = unit % VIOLATING_UNIT_EVERY === 0;
        const bucketName = `bucket-${unit}-abcdefg`;
        const bucketArn = `arn:aws:s3:::${bucketName}`;
        const bucket = record("aws:s3/bucket:Bucket", `bucket-${unit}`, bucketName, { forceDestroy: false }, { bucket: bucketName, arn: bucketArn });
        const roleName = `role-${unit}-abcdefg`;
        const members = [
            bucket,
            record(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                `bucket-${unit}-public-access`,
                `bucket-${unit}-public-access-abcdefgh`,
                { bucket: bucketName, blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: !violating, restrictPublicBuckets: true },
                {},
                { bucket: [bucket.urn] },
            ),
            record(
                "aws:s3/bucketPolicy:BucketPolicy",
                `bucket-${unit}-policy`,
                `bucket-${unit}-policy-abcdefgh`,
                {
                    bucket: bucketName,
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
                            { Sid: "AppRole", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/${roleName}` }, Action: ["s3:GetObject", "s3:PutObject"], Resource: `${bucketArn}/*` },
                        ],
                    }),
                },
                {},
                { bucket: [bucket.urn] },
            ),
            record(
                "aws:apigatewayv2/route:Route",
                `route-${unit}`,
                `route-${unit}-abcdefgh`,
                { apiId: "a1b2c3d4e5", routeKey: `GET /items${unit}/{id}`, authorizationType: violating ? "NONE" : "AWS_IAM", target: `integrations/int-${unit}` },
                {},
            ),
            record(
                "aws:iam/role:Role",
                `role-${unit}`,
                roleName,
                {
                    assumeRolePolicy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Federated: "cognito-identity.amazonaws.com" },
                                Action: "sts:AssumeRoleWithWebIdentity",
                                Condition: {
                                    StringEquals: { "cognito-identity.amazonaws.com:aud": `${REGION}:00000000-0000-4000-8000-${String(unit).padStart(12, "0")}` },
                                    "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
                                },
                            },
                        ],
                    }),
                },
                { arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`, name: roleName },
            ),
        ];
        resources.push(...members.slice(0, size - resources.length));
    }
    return resources;
}
