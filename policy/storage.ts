import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    BaseConfig,
    conditionEntries,
    configSchema,
    describeStatement,
    hasWildcard,
    isUnknownValueError,
    items,
    parseDocument,
    quote,
    resourceRule,
    stackRule,
    statements,
} from "./util";

/** Each v7 token with its deprecated `...V2` twin where one exists. */
export const TYPES = {
    bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    accountPublicAccessBlock: ["aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"],
    bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
    bucketAcl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
    object: ["aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"],
    ownershipControls: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
    website: [
        "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
        "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
    ],
} as const;

export const PUBLIC_ACCESS_BLOCK_FLAGS = ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"] as const;

/** Describes the flags that are not `true` ("blockPublicPolicy false, restrictPublicBuckets unset"), or undefined. */
export function weakFlags(props: Record<string, any>): string | undefined {
    const weak = PUBLIC_ACCESS_BLOCK_FLAGS.filter((flag) => props[flag] !== true).map(
        (flag) => `${flag} ${props[flag] === undefined || props[flag] === null ? "unset" : quote(props[flag])}`,
    );
    return weak.length > 0 ? weak.join(", ") : undefined;
}

const base = configSchema();

export const publicAccessBlockFlags: ResourceValidationPolicy = {
    name: "s3-public-access-block-all-flags",
    description: "Checks that every S3 bucket or account public access block sets all four flags to true.",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateResource: resourceRule<BaseConfig>([...TYPES.publicAccessBlock, ...TYPES.accountPublicAccessBlock], base, (props, ctx) => {
        const weak = weakFlags(props);
        if (!weak) return;
        const kind = TYPES.accountPublicAccessBlock.includes(ctx.type as any) ? "Account public access block" : "Public access block";
        ctx.report(`${kind} ${ctx.name} must set ${PUBLIC_ACCESS_BLOCK_FLAGS.join(", ")} to true; found ${weak}.`);
    }),
};

const bucketTypes = new Set<string>(TYPES.bucket);

/** A bucket's name only helps match blocks by value; propertyDependencies match even when it is unknown. */
function knownOrUndefined<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknownValueError(error)) return undefined;
        throw error;
    }
}

/**
 * Which bucket a public access block protects: the resource its `bucket` input came from (known
 * even at preview), else the bucket whose name or id equals its `bucket` value, else the only
 * bucket it depends on.
 */
function protectedBucket(pab: PolicyResource, byUrn: Map<string, PolicyResource>, byName: Map<string, PolicyResource>): PolicyResource | undefined {
    const fromProperty = (pab.propertyDependencies.bucket ?? []).filter((dep) => bucketTypes.has(dep.type));
    if (fromProperty.length > 0) return byUrn.get(fromProperty[0].urn);
    const value = knownOrUndefined(() => pab.props.bucket);
    if (typeof value === "string" && byName.has(value)) return byName.get(value);
    const dependedOn = pab.dependencies.filter((dep) => bucketTypes.has(dep.type));
    return dependedOn.length === 1 ? byUrn.get(dependedOn[0].urn) : undefined;
}

export const bucketHasPublicAccessBlock: StackValidationPolicy = {
    name: "s3-bucket-has-public-access-block",
    description: "Checks that every S3 bucket has a public access block with all four flags true attached to it.",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateStack: stackRule<BaseConfig>(base, (resources, ctx) => {
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
            const bucket = ctx.check("which bucket it protects", block, () => protectedBucket(block, byUrn, byName));
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
    }),
};

const PUBLIC_CANNED_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);
const PUBLIC_GROUPS = ["http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"];

function publicGroup(uri: unknown): string | undefined {
    if (typeof uri !== "string") return undefined;
    const found = PUBLIC_GROUPS.find((group) => group.toLowerCase() === uri.toLowerCase().replace(/^https:/, "http:"));
    return found ? found.slice(found.lastIndexOf("/") + 1) : undefined;
}

export const noPublicAcl: ResourceValidationPolicy = {
    name: "s3-no-public-acl",
    description: "Checks that no S3 bucket, bucket ACL or object uses a public canned ACL or grants access to the AllUsers or AuthenticatedUsers groups.",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateResource: resourceRule<BaseConfig>([...TYPES.bucket, ...TYPES.bucketAcl, ...TYPES.object], base, (props, ctx) => {
        ctx.check("acl", () => {
            const acl = props.acl;
            if (typeof acl === "string" && PUBLIC_CANNED_ACLS.has(acl)) {
                ctx.report(`${ctx.type.split(":").pop()} ${ctx.name} must not use the public canned ACL ${quote(acl)}; use "private" (or none, with BucketOwnerEnforced ownership).`);
            }
        });
        // Inline bucket grants: { type, uri, permissions[] }; BucketAcl: accessControlPolicy.grants[].grantee.uri.
        ctx.check("grants", () => {
            for (const grant of items(props.grants)) {
                const group = publicGroup(grant?.uri);
                if (group) ctx.report(`Bucket ${ctx.name} must not grant ${items(grant.permissions).join(", ") || "access"} to the ${group} group.`);
            }
        });
        ctx.check("accessControlPolicy", () => {
            for (const policy of items(props.accessControlPolicy)) {
                for (const grant of items(policy?.grants)) {
                    for (const grantee of items(grant?.grantee)) {
                        const group = publicGroup(grantee?.uri);
                        if (group) ctx.report(`Bucket ACL ${ctx.name} must not grant ${grant.permission ?? "access"} to the ${group} group.`);
                    }
                }
            }
        });
    }),
};

/**
 * Condition keys that S3 (and IAM Access Analyzer) treat as making an `Allow` to `*` non-public
 * when they hold fixed values ("The meaning of public", Amazon S3 User Guide), plus the
 * principal keys that pin the caller's own account, ARN or organization.
 */
export const NON_PUBLIC_CONDITION_KEYS = new Set(
    [
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceIp",
        "aws:userid",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    ].map((key) => key.toLowerCase()),
);

/** Operators that pin a key to the listed values (not negations, not `...IfExists`, not vacuous `ForAllValues`). */
const PINNING_OPERATORS = new Set(["stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"]);
const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

function pinsToSpecificValues(operator: string, key: string, values: unknown[]): boolean {
    let op = operator.toLowerCase();
    if (op.startsWith("forallvalues:")) return false;
    if (op.startsWith("foranyvalue:")) op = op.slice("foranyvalue:".length);
    if (!PINNING_OPERATORS.has(op) || !NON_PUBLIC_CONDITION_KEYS.has(key.toLowerCase())) return false;
    if (values.length === 0) return false;
    return values.every((value) => typeof value === "string" && value.length > 0 && !hasWildcard(value) && !OPEN_CIDRS.has(value));
}

function principalIsPublic(principal: unknown): boolean {
    if (principal === "*") return true;
    if (principal === null || typeof principal !== "object") return false;
    const record = principal as Record<string, unknown>;
    return ["AWS", "CanonicalUser"].some((kind) => items(record[kind]).includes("*"));
}

/** Problems ("statement 2, Sid Public allows principal \"*\" …") of a bucket policy document. */
export function publicStatements(document: Record<string, any>): string[] {
    const problems: string[] = [];
    statements(document).forEach((statement, index) => {
        if (statement?.Effect !== "Allow") return;
        const where = describeStatement(statement, index);
        if (statement.NotPrincipal !== undefined) {
            problems.push(`${where} allows everyone except NotPrincipal ${quote(statement.NotPrincipal)}`);
            return;
        }
        if (!principalIsPublic(statement.Principal)) return;
        const pinned = conditionEntries(statement.Condition).some((entry) => pinsToSpecificValues(entry.operator, entry.key, entry.values));
        if (!pinned) problems.push(`${where} allows principal ${quote(statement.Principal)} without a condition that pins it`);
    });
    return problems;
}

const PINNING_HINT =
    "an Allow to everyone needs a condition with fixed values on aws:SourceArn, aws:SourceAccount, aws:SourceVpc(e), aws:SourceIp, aws:PrincipalAccount, aws:PrincipalArn or aws:PrincipalOrgID";

export const noPublicBucketPolicy: ResourceValidationPolicy = {
    name: "s3-no-public-bucket-policy",
    description: "Checks that no S3 bucket policy (separate or inline) allows access to everyone.",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateResource: resourceRule<BaseConfig>([...TYPES.bucketPolicy, ...TYPES.bucket], base, (props, ctx) => {
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
            for (const problem of publicStatements(document)) {
                ctx.report(`${subject} must not be public: ${problem} (${PINNING_HINT}).`);
            }
        });
    }),
};

export const noWebsiteHosting: ResourceValidationPolicy = {
    name: "s3-no-website-hosting",
    description: "Checks that no S3 bucket has a static website hosting configuration (inline or a separate resource).",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateResource: resourceRule<BaseConfig>([...TYPES.bucket, ...TYPES.website], base, (props, ctx) => {
        if (!bucketTypes.has(ctx.type)) {
            ctx.report(`Bucket website configuration ${ctx.name} must not exist: website endpoints serve objects over plain HTTP without authentication. Serve through CloudFront with origin access control instead.`);
            return;
        }
        ctx.check("website", () => {
            // v7: an object; v6: a one-element list.
            if (items(props.website).length > 0) {
                ctx.report(`Bucket ${ctx.name} must not configure website hosting (website is set): website endpoints serve objects over plain HTTP without authentication.`);
            }
        });
    }),
};

export const ownershipEnforced: ResourceValidationPolicy = {
    name: "s3-bucket-owner-enforced",
    description: "Checks that every S3 ownership controls resource sets object ownership to BucketOwnerEnforced (ACLs disabled).",
    enforcementLevel: "mandatory",
    configSchema: base,
    validateResource: resourceRule<BaseConfig>(TYPES.ownershipControls, base, (props, ctx) => {
        const rules = items(props.rule);
        const ownership = rules.map((rule) => rule?.objectOwnership);
        if (ownership.length > 0 && ownership.every((value) => value === "BucketOwnerEnforced")) return;
        ctx.report(`Ownership controls ${ctx.name} must set objectOwnership to BucketOwnerEnforced (ACLs disabled), found ${ownership.length > 0 ? ownership.map(String).join(", ") : "no rule"}.`);
    }),
};

export const storagePolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    publicAccessBlockFlags,
    bucketHasPublicAccessBlock,
    noPublicAcl,
    noPublicBucketPolicy,
    noWebsiteHosting,
    ownershipEnforced,
];
