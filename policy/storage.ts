import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, stackPolicy } from "./define";
import { NON_PUBLIC_HINT, PUBLIC_ACCESS_BLOCK_FLAGS, PUBLIC_CANNED_ACLS, publicGroup, publicStatements, weakFlags } from "./public";
import { isUnknownValueError, items, parseDocument, quote } from "./util";

/** Each v7 token with its deprecated `...V2` twin (the v6 token) where one exists. */
export const TYPES = {
    bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    accountPublicAccessBlock: ["aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"],
    bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
    bucketAcl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
    object: ["aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"],
    objectCopy: ["aws:s3/objectCopy:ObjectCopy"],
    ownershipControls: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
    website: ["aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2"],
    accessPoint: ["aws:s3/accessPoint:AccessPoint"],
    accessPointPolicy: ["aws:s3control/accessPointPolicy:AccessPointPolicy"],
    objectLambdaAccessPointPolicy: ["aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy"],
    multiRegionAccessPoint: ["aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint"],
    multiRegionAccessPointPolicy: ["aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy"],
} as const;

const is = (types: readonly string[], type: string) => types.includes(type);

export const publicAccessBlockFlags: ResourceValidationPolicy = resourcePolicy({
    name: "s3-public-access-block-all-flags",
    description: "Checks that every S3 bucket, account, access point and Multi-Region Access Point public access block keeps all four flags true.",
    types: [...TYPES.publicAccessBlock, ...TYPES.accountPublicAccessBlock, ...TYPES.accessPoint, ...TYPES.multiRegionAccessPoint],
    validate: (props, ctx) => {
        const required = `${PUBLIC_ACCESS_BLOCK_FLAGS.join(", ")} true`;
        if (is(TYPES.accessPoint, ctx.type)) {
            // Absent flags (or an absent block) keep AWS's default for access points: enabled.
            const weak = weakFlags(props.publicAccessBlockConfiguration, true);
            if (weak) ctx.report(`Access point ${ctx.name} must keep ${required} in publicAccessBlockConfiguration; found ${weak}.`);
            return;
        }
        if (is(TYPES.multiRegionAccessPoint, ctx.type)) {
            const weak = weakFlags(items(props.details)[0]?.publicAccessBlock, true);
            if (weak) ctx.report(`Multi-Region Access Point ${ctx.name} must keep ${required} in details.publicAccessBlock; found ${weak}.`);
            return;
        }
        const weak = weakFlags(props);
        if (!weak) return;
        const kind = is(TYPES.accountPublicAccessBlock, ctx.type) ? "Account public access block" : "Public access block";
        ctx.report(`${kind} ${ctx.name} must set ${PUBLIC_ACCESS_BLOCK_FLAGS.join(", ")} to true; found ${weak}.`);
    },
});

const bucketTypes = new Set<string>(TYPES.bucket);

/** A value that only helps matching; propertyDependencies match even when it is unknown. */
function knownOrUndefined<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknownValueError(error)) return undefined;
        throw error;
    }
}

/**
 * The resource of one of `types` that `resource` points at through `property`: the resource its
 * input came from (known even at preview), else the one whose `valueKeys` output equals the
 * input's value, else the only such resource it depends on.
 */
function referenced(
    resource: PolicyResource,
    property: string,
    types: ReadonlySet<string>,
    byUrn: Map<string, PolicyResource>,
    byValue: Map<string, PolicyResource>,
): PolicyResource | undefined {
    const fromProperty = (resource.propertyDependencies[property] ?? []).filter((dep) => types.has(dep.type));
    if (fromProperty.length > 0) return byUrn.get(fromProperty[0].urn);
    const value = knownOrUndefined(() => resource.props[property]);
    if (typeof value === "string" && byValue.has(value)) return byValue.get(value);
    const dependedOn = resource.dependencies.filter((dep) => types.has(dep.type));
    return dependedOn.length === 1 ? byUrn.get(dependedOn[0].urn) : undefined;
}

export const bucketHasPublicAccessBlock: StackValidationPolicy = stackPolicy({
    name: "s3-bucket-has-public-access-block",
    description: "Checks that every S3 bucket has a public access block with all four flags true attached to it.",
    validate: (resources, ctx) => {
        // One pass to index, one over the blocks, one over the buckets: linear in the stack size.
        const byUrn = new Map<string, PolicyResource>();
        const byName = new Map<string, PolicyResource>();
        const blocks: PolicyResource[] = [];
        let accountBlocked = false;
        for (const resource of resources) {
            if (bucketTypes.has(resource.type)) {
                byUrn.set(resource.urn, resource);
                for (const key of ["bucket", "id"]) {
                    const value = knownOrUndefined(() => resource.props[key]);
                    if (typeof value === "string" && value.length > 0) byName.set(value, resource);
                }
            } else if (resource.type === TYPES.publicAccessBlock[0]) {
                blocks.push(resource);
            } else if (resource.type === TYPES.accountPublicAccessBlock[0]) {
                if (ctx.check("its flags", resource, () => !weakFlags(resource.props))) accountBlocked = true;
            }
        }
        if (accountBlocked) return;

        const protection = new Map<string, { block: PolicyResource; weak?: string }[]>();
        let unmatched = 0;
        for (const block of blocks) {
            const bucket = ctx.check("which bucket it protects", block, () => referenced(block, "bucket", bucketTypes, byUrn, byName));
            if (!bucket) {
                unmatched++;
                continue;
            }
            // Unknown flags were reported by `check` (advisory unless failOnUnknown): do not report twice.
            const flags = ctx.check("its flags", block, () => ({ weak: weakFlags(block.props) }));
            const list = protection.get(bucket.urn) ?? [];
            list.push({ block, weak: flags?.weak });
            protection.set(bucket.urn, list);
        }

        for (const bucket of byUrn.values()) {
            const found = protection.get(bucket.urn) ?? [];
            if (found.some((entry) => !entry.weak)) continue;
            const what =
                found.length > 0
                    ? found.map((entry) => `${entry.block.name} with ${entry.weak}`).join("; ")
                    : unmatched > 0
                      ? `no block attached to it (${unmatched} block(s) could not be matched to a bucket)`
                      : "no block attached to it";
            ctx.report(
                `Bucket ${bucket.name} (${bucket.type}) must have a public access block with all four flags true attached (through its bucket input); found ${what}.`,
                bucket.urn,
            );
        }
    },
});

function aclSubject(type: string): string {
    if (is(TYPES.bucket, type)) return "Bucket";
    if (is(TYPES.bucketAcl, type)) return "Bucket ACL";
    if (is(TYPES.objectCopy, type)) return "Object copy";
    return type.split(":").pop()!;
}

export const noPublicAcl: ResourceValidationPolicy = resourcePolicy({
    name: "s3-no-public-acl",
    description: "Checks that no S3 bucket, bucket ACL, object or object copy uses a public canned ACL or grants access to the AllUsers or AuthenticatedUsers groups.",
    types: [...TYPES.bucket, ...TYPES.bucketAcl, ...TYPES.object, ...TYPES.objectCopy],
    validate: (props, ctx) => {
        const subject = `${aclSubject(ctx.type)} ${ctx.name}`;
        ctx.check("acl", () => {
            const acl = props.acl;
            if (typeof acl === "string" && PUBLIC_CANNED_ACLS.has(acl)) {
                const kind = is(TYPES.object, ctx.type) ? ctx.type.split(":").pop() : aclSubject(ctx.type);
                ctx.report(`${kind} ${ctx.name} must not use the public canned ACL ${quote(acl)}; use "private" (or none, with BucketOwnerEnforced ownership).`);
            }
        });
        // Inline bucket grants and ObjectCopy grants: { type, uri, permissions[] }.
        ctx.check("grants", () => {
            for (const grant of items(props.grants)) {
                const group = publicGroup(grant?.uri);
                if (group) ctx.report(`${subject} must not grant ${items(grant.permissions).join(", ") || "access"} to the ${group} group.`);
            }
        });
        // BucketAcl: accessControlPolicy.grants[].grantee.uri (an object in v6 and v7; a one-element list is read too).
        ctx.check("accessControlPolicy", () => {
            for (const policy of items(props.accessControlPolicy)) {
                for (const grant of items(policy?.grants)) {
                    for (const grantee of items(grant?.grantee)) {
                        const group = publicGroup(grantee?.uri);
                        if (group) ctx.report(`${subject} must not grant ${grant.permission ?? "access"} to the ${group} group.`);
                    }
                }
            }
        });
    },
});

export const noPublicBucketPolicy: ResourceValidationPolicy = resourcePolicy({
    name: "s3-no-public-bucket-policy",
    description: "Checks that no S3 bucket policy (separate or inline) is public as AWS defines it.",
    types: [...TYPES.bucketPolicy, ...TYPES.bucket],
    validate: (props, ctx) => {
        const inline = bucketTypes.has(ctx.type);
        ctx.check("policy", () => {
            const policy = props.policy;
            if (policy === undefined || policy === null || policy === "") return;
            const subject = inline ? `The inline policy of bucket ${ctx.name}` : `Bucket policy ${ctx.name}`;
            const { document, error } = parseDocument(policy);
            if (!document) {
                ctx.report(`${subject} must be a valid policy document so it can be checked; it ${error}.`);
                return;
            }
            for (const problem of publicStatements(document, { kind: "bucket" })) {
                ctx.report(`${subject} must not be public: ${problem} (${NON_PUBLIC_HINT}).`);
            }
        });
    },
});

const accessPointTypes = new Set<string>(TYPES.accessPoint);

/** Access points whose network origin is a VPC (AWS: never public, whatever their policy). */
function hasVpcOrigin(accessPoint: PolicyResource): boolean {
    const vpc = items(accessPoint.props.vpcConfiguration)[0];
    return typeof vpc?.vpcId === "string" && vpc.vpcId.length > 0;
}

export const noPublicAccessPointPolicy: StackValidationPolicy = stackPolicy({
    name: "s3-no-public-access-point-policy",
    description:
        "Checks that no S3 access point, Object Lambda access point or Multi-Region Access Point policy is public as AWS defines it for access points (an access point with a VPC network origin is never public).",
    validate: (resources, ctx) => {
        const byUrn = new Map<string, PolicyResource>();
        const byArn = new Map<string, PolicyResource>();
        for (const resource of resources) {
            if (!accessPointTypes.has(resource.type)) continue;
            byUrn.set(resource.urn, resource);
            const arn = knownOrUndefined(() => resource.props.arn);
            if (typeof arn === "string" && arn.length > 0) byArn.set(arn, resource);
        }
        const judge = (resource: PolicyResource, subject: string, policy: unknown) => {
            if (policy === undefined || policy === null || policy === "") return;
            const { document, error } = parseDocument(policy);
            if (!document) {
                ctx.report(`${subject} must be a valid policy document so it can be checked; it ${error}.`, resource.urn);
                return;
            }
            for (const problem of publicStatements(document, { kind: "access-point" })) {
                ctx.report(`${subject} must not be public: ${problem} (${NON_PUBLIC_HINT}; a set of access points through s3:DataAccessPointArn is public here).`, resource.urn);
            }
        };
        for (const resource of resources) {
            if (is(TYPES.accessPoint, resource.type)) {
                ctx.check("policy", resource, () => {
                    if (!hasVpcOrigin(resource)) judge(resource, `The policy of access point ${resource.name}`, resource.props.policy);
                });
            } else if (is(TYPES.accessPointPolicy, resource.type)) {
                ctx.check("policy", resource, () => {
                    const accessPoint = referenced(resource, "accessPointArn", accessPointTypes, byUrn, byArn);
                    if (accessPoint && ctx.check("network origin", accessPoint, () => hasVpcOrigin(accessPoint))) return;
                    judge(resource, `Access point policy ${resource.name}`, resource.props.policy);
                });
            } else if (is(TYPES.objectLambdaAccessPointPolicy, resource.type)) {
                ctx.check("policy", resource, () => judge(resource, `Object Lambda access point policy ${resource.name}`, resource.props.policy));
            } else if (is(TYPES.multiRegionAccessPointPolicy, resource.type)) {
                ctx.check("policy", resource, () => judge(resource, `Multi-Region Access Point policy ${resource.name}`, items(resource.props.details)[0]?.policy));
            }
        }
    },
});

export const noWebsiteHosting: ResourceValidationPolicy = resourcePolicy({
    name: "s3-no-website-hosting",
    description: "Checks that no S3 bucket has a static website hosting configuration (inline or a separate resource).",
    types: [...TYPES.bucket, ...TYPES.website],
    validate: (props, ctx) => {
        if (!bucketTypes.has(ctx.type)) {
            ctx.report(`Bucket website configuration ${ctx.name} must not exist: website endpoints serve objects over plain HTTP without authentication. Serve through CloudFront with origin access control instead.`);
            return;
        }
        // `website`: an object on v7 buckets and v6's legacy Bucket; `websites`: a list on v6's BucketV2.
        for (const field of ["website", "websites"] as const) {
            ctx.check(field, () => {
                if (items(props[field]).length > 0) {
                    ctx.report(`Bucket ${ctx.name} must not configure website hosting (${field} is set): website endpoints serve objects over plain HTTP without authentication.`);
                }
            });
        }
    },
});

export const ownershipEnforced: ResourceValidationPolicy = resourcePolicy({
    name: "s3-bucket-owner-enforced",
    description: "Checks that every S3 ownership controls resource sets object ownership to BucketOwnerEnforced (ACLs disabled).",
    types: TYPES.ownershipControls,
    validate: (props, ctx) => {
        const rules = items(props.rule);
        const ownership = rules.map((rule) => rule?.objectOwnership);
        if (ownership.length > 0 && ownership.every((value) => value === "BucketOwnerEnforced")) return;
        ctx.report(`Ownership controls ${ctx.name} must set objectOwnership to BucketOwnerEnforced (ACLs disabled), found ${ownership.length > 0 ? ownership.map(String).join(", ") : "no rule"}.`);
    },
});

export const storagePolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    publicAccessBlockFlags,
    bucketHasPublicAccessBlock,
    noPublicAcl,
    noPublicBucketPolicy,
    noPublicAccessPointPolicy,
    noWebsiteHosting,
    ownershipEnforced,
];
