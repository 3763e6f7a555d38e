/**
 * S3 "public", as AWS defines it: "The meaning of public" in the Amazon S3 User Guide
 * (access-control-block-public-access.html#access-control-block-public-access-policy-status) and
 * the `PublicAccessBlockConfiguration` API reference. Every rule below cites the AWS sentence it
 * implements (`AWS_RULES`); policy/README.md carries the same table and a test covers each row.
 * The policies in storage.ts decide *where* to look; this module decides *what is public*.
 */
import { isIPv4, isIPv6 } from "node:net";
import { conditionEntries, describeStatement, items, quote, statements } from "./util";

const MEANING_OF_PUBLIC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status";
const BLOCK_PUBLIC_ACCESS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html";
const PUBLIC_ACCESS_BLOCK_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html";
const NOT_PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html";
const MRAP_BLOCK_PUBLIC_ACCESS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-block-public-access.html";
const ACCESS_POINT_BLOCK_PUBLIC_ACCESS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html";

export interface AwsRule {
    /** The AWS sentence, quoted exactly. */
    sentence: string;
    source: string;
}

/** Each rule this module implements, with the AWS sentence it comes from. */
export const AWS_RULES = {
    "public-acl-grantee": {
        sentence: "Amazon S3 considers a bucket or object ACL public if it grants any permissions to members of the predefined AllUsers or AuthenticatedUsers groups.",
        source: MEANING_OF_PUBLIC,
    },
    "public-unless-fixed": {
        sentence: "When evaluating a bucket policy, Amazon S3 begins by assuming that the policy is public. It then evaluates the policy to determine whether it qualifies as non-public.",
        source: MEANING_OF_PUBLIC,
    },
    "fixed-principal": {
        sentence: "An AWS principal, user, role, or service principal (e.g. aws:PrincipalOrgID)",
        source: MEANING_OF_PUBLIC,
    },
    "federated-principal": {
        sentence: 'Under these rules, the following example policies are considered public. { "Principal": { "Federated": "graph.facebook.com" }, "Resource": "*", "Action": "s3:PutObject", "Effect": "Allow" }',
        source: MEANING_OF_PUBLIC,
    },
    "not-principal": {
        sentence: 'Doing so allows all principals except the one named in the NotPrincipal element. We do not recommend this because the permissions specified in the policy statement will be granted to all principals except for the ones specified. By doing this, you might grant access to anonymous (unauthenticated) users.',
        source: NOT_PRINCIPAL,
    },
    "no-wildcard": {
        sentence: "To be considered non-public, a bucket policy must grant access only to fixed values (values that don't contain a wildcard or an AWS Identity and Access Management Policy Variable) for one or more of the following:",
        source: MEANING_OF_PUBLIC,
    },
    "no-policy-variable": {
        sentence: "To be considered non-public, a bucket policy must grant access only to fixed values (values that don't contain a wildcard or an AWS Identity and Access Management Policy Variable) for one or more of the following:",
        source: MEANING_OF_PUBLIC,
    },
    "fixed-condition-keys": {
        sentence: "You can make these policies non-public by including any of the condition keys listed previously, using a fixed value.",
        source: MEANING_OF_PUBLIC,
    },
    "source-ip-breadth": {
        sentence: 'Bucket policies that grant access conditioned on the aws:SourceIp condition key with very broad IP ranges (for example, 0.0.0.0/1) are evaluated as "public." This includes values broader than /8 for IPv4 and /32 for IPv6 (excluding RFC1918 private ranges).',
        source: MEANING_OF_PUBLIC,
    },
    "userid-role-pattern": {
        sentence: 'aws:userid, outside the pattern "AROLEID:*"',
        source: MEANING_OF_PUBLIC,
    },
    "data-access-point-arn": {
        sentence: "When used in a bucket policy, this value can contain a wildcard for the access point name without rendering the policy public, as long as the account id is fixed.",
        source: MEANING_OF_PUBLIC,
    },
    "data-access-point-account": {
        sentence: "s3:DataAccessPointAccount",
        source: MEANING_OF_PUBLIC,
    },
    "one-public-statement": {
        sentence: "This policy qualifies as public because of the third statement.",
        source: MEANING_OF_PUBLIC,
    },
    "bad-actions": {
        sentence:
            '"Bad actions" are those that could expose the data inside a bucket to reads or writes by the public. These actions are s3:Get*, s3:List*, s3:AbortMultipartUpload, s3:Delete*, s3:Put*, and s3:RestoreObject. The star notation for bad actions indicates that all matching operations are considered bad actions.',
        source: PUBLIC_ACCESS_BLOCK_API,
    },
    "any-action": {
        sentence: "This happens because Amazon S3 block public access reviews policies for current actions and any potential actions that might be added in the future, leading to a bucket becoming public.",
        source: MEANING_OF_PUBLIC,
    },
    "access-point-vpc-origin": {
        sentence: "An access point that has a VPC network origin is always considered non-public, regardless of the contents of its access point policy.",
        source: MEANING_OF_PUBLIC,
    },
    "access-point-data-access-point-arn": {
        sentence: "An access point policy that grants access to a set of access points using s3:DataAccessPointArn is considered public.",
        source: MEANING_OF_PUBLIC,
    },
    "all-four-settings": {
        sentence: "To help ensure that all of your Amazon S3 access points, buckets, and objects have their public access blocked, we recommend that you turn on all four settings for block public access for your account.",
        source: BLOCK_PUBLIC_ACCESS,
    },
    "access-point-defaults": {
        sentence: "All block public access settings are enabled by default for access points. You must explicitly disable any settings that you don't want during access point creation.",
        source: ACCESS_POINT_BLOCK_PUBLIC_ACCESS,
    },
    "multi-region-access-point-defaults": {
        sentence: "By default, all Block Public Access settings are enabled for a Multi-Region Access Point.",
        source: MRAP_BLOCK_PUBLIC_ACCESS,
    },
} as const satisfies Record<string, AwsRule>;

export type RuleId = keyof typeof AWS_RULES;

// ---------------------------------------------------------------------------------------------
// ACLs

const PUBLIC_GROUPS = ["http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"];

/** Canned ACLs whose grant goes to AllUsers (public-read, public-read-write) or AuthenticatedUsers. */
export const PUBLIC_CANNED_ACLS: ReadonlySet<string> = new Set(["public-read", "public-read-write", "authenticated-read"]);

/** `AllUsers` or `AuthenticatedUsers` when a grantee URI names one of those groups (public-acl-grantee). */
export function publicGroup(uri: unknown): string | undefined {
    if (typeof uri !== "string") return undefined;
    const found = PUBLIC_GROUPS.find((group) => group.toLowerCase() === uri.trim().toLowerCase().replace(/^https:/, "http:"));
    return found ? found.slice(found.lastIndexOf("/") + 1) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Fixed values (no-wildcard, no-policy-variable)

function hasWildcard(value: string): boolean {
    return value.includes("*") || value.includes("?");
}

/** IAM policy variables are written `${…}` (`${aws:username}`, and the escapes `${*}`, `${?}`, `${$}`). */
function hasPolicyVariable(value: string): boolean {
    return value.includes("${");
}

/** A value AWS calls fixed: a non-empty string without a wildcard and without a policy variable. */
export function isFixed(value: unknown): value is string {
    return typeof value === "string" && value.length > 0 && !hasWildcard(value) && !hasPolicyVariable(value);
}

// ---------------------------------------------------------------------------------------------
// Principals

interface PrincipalVerdict {
    public: boolean;
    /** What makes it public, for the message. */
    why?: string;
}

/**
 * `"*"`, `{AWS: "*"}`, `{CanonicalUser: "*"}` (or any principal value that is not fixed) and every
 * `Federated` principal are public; a fixed account, user, role, canonical user or service
 * principal is not (fixed-principal).
 */
export function principalVerdict(principal: unknown): PrincipalVerdict {
    if (principal === undefined || principal === null) return { public: false };
    if (typeof principal === "string") return isFixed(principal) ? { public: false } : { public: true, why: `principal ${quote(principal)}` };
    if (typeof principal !== "object" || Array.isArray(principal)) return { public: true, why: `principal ${quote(principal)} (not a principal block)` };
    for (const [kind, value] of Object.entries(principal as Record<string, unknown>)) {
        if (kind === "Federated") return { public: true, why: `Federated principal ${quote(value)} (anyone signed in with that identity provider)` };
        if (!["AWS", "CanonicalUser", "Service"].includes(kind)) return { public: true, why: `principal type ${quote(kind)}, which names no fixed AWS principal` };
        const open = items(value).find((entry) => !isFixed(entry));
        if (open !== undefined) return { public: true, why: `principal ${quote({ [kind]: open })}` };
    }
    return { public: false };
}

// ---------------------------------------------------------------------------------------------
// Conditions (fixed-condition-keys and the rules for each key)

export type PolicyKind = "bucket" | "access-point";

/** Keys whose fixed value makes a statement non-public (the list in "The meaning of public"). */
const FIXED_VALUE_KEYS = new Set(
    [
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointAccount",
        // "An AWS principal, user, role, or service principal (e.g. aws:PrincipalOrgID)"
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
    ].map((key) => key.toLowerCase()),
);

/** Operators that admit only the listed values (not negations, not `...IfExists`, not `ForAllValues`). */
const STRING_OPERATORS = new Set(["stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"]);

/** Prefix lengths broader than these are public (source-ip-breadth). */
const NARROWEST_PUBLIC_PREFIX = { 4: 8, 6: 32 } as const;

/** Parses `a.b.c.d/n` or an IPv6 CIDR (a bare address is /32 or /128); undefined when invalid. */
export function parseCidr(value: string): { version: 4 | 6; prefix: number } | undefined {
    const [address, prefixText, ...rest] = value.trim().split("/");
    if (rest.length > 0) return undefined;
    const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
    if (!version) return undefined;
    const max = version === 4 ? 32 : 128;
    if (prefixText === undefined) return { version, prefix: max };
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
    return { version, prefix: Number(prefixText) };
}

/** A source IP value AWS accepts as non-public: a valid CIDR no broader than /8 (IPv4) or /32 (IPv6). */
export function isNarrowCidr(value: unknown): boolean {
    if (!isFixed(value)) return false;
    const cidr = parseCidr(value);
    return cidr !== undefined && cidr.prefix >= NARROWEST_PUBLIC_PREFIX[cidr.version];
}

/** A role's unique id (AROA…) followed by `:*` for any session of that role (userid-role-pattern). */
const ROLE_ID_PATTERN = /^AROA[A-Z0-9]+:\*$/;

/** `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`: everything before the name fixed, the name may be a wildcard. */
const ACCESS_POINT_ARN = /^arn:[a-z-]+:s3:[a-z0-9-]+:\d{12}:accesspoint\/([^$]+)$/;

function fixedValueFor(key: string, value: unknown, kind: PolicyKind): boolean {
    if (isFixed(value)) return true;
    if (typeof value !== "string" || hasPolicyVariable(value)) return false;
    if (key === "aws:userid") return ROLE_ID_PATTERN.test(value);
    if (key === "s3:dataaccesspointarn") return kind === "bucket" && ACCESS_POINT_ARN.test(value);
    return false;
}

/** Whether one condition entry limits the statement to fixed values of a key AWS lists. */
export function pinsToFixedValues(operator: string, key: string, values: unknown[], kind: PolicyKind = "bucket"): boolean {
    let op = operator.toLowerCase();
    if (op.startsWith("forallvalues:")) return false;
    if (op.startsWith("foranyvalue:")) op = op.slice("foranyvalue:".length);
    const lowerKey = key.toLowerCase();
    if (values.length === 0) return false;
    if (lowerKey === "aws:sourceip") return op === "ipaddress" && values.every(isNarrowCidr);
    if (!STRING_OPERATORS.has(op)) return false;
    if (!FIXED_VALUE_KEYS.has(lowerKey) && lowerKey !== "aws:userid" && lowerKey !== "s3:dataaccesspointarn") return false;
    return values.every((value) => fixedValueFor(lowerKey, value, kind));
}

// ---------------------------------------------------------------------------------------------
// Actions (bad-actions, any-action)

export const BAD_ACTIONS = ["s3:Get*", "s3:List*", "s3:AbortMultipartUpload", "s3:Delete*", "s3:Put*", "s3:RestoreObject"] as const;

/** Whether two IAM action globs (`*`, `?`, case-insensitive) can match a common action. */
export function globsIntersect(a: string, b: string): boolean {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    const memo = new Map<string, boolean>();
    const go = (i: number, j: number): boolean => {
        const key = `${i},${j}`;
        const cached = memo.get(key);
        if (cached !== undefined) return cached;
        let result: boolean;
        if (i === x.length && j === y.length) result = true;
        else if (i < x.length && x[i] === "*") result = go(i + 1, j) || (j < y.length && go(i, j + 1)) || (j < y.length && y[j] === "*" && go(i + 1, j + 1));
        else if (j < y.length && y[j] === "*") result = go(i, j + 1) || (i < x.length && go(i + 1, j));
        else if (i < x.length && j < y.length) result = (x[i] === y[j] || x[i] === "?" || y[j] === "?") && go(i + 1, j + 1);
        else result = false;
        memo.set(key, result);
        return result;
    };
    return go(0, 0);
}

/** Whether glob `outer` matches every action that glob `inner` matches (approximated: `outer` matches `inner`'s text). */
function globCovers(outer: string, inner: string): boolean {
    const pattern = new RegExp(`^${outer.toLowerCase().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    return pattern.test(inner.toLowerCase());
}

/** The bad actions a statement's `Action` (or the complement of its `NotAction`) can grant. */
export function badActionsGranted(statement: Record<string, any>): string[] {
    if (statement.NotAction !== undefined) {
        const excluded = items<string>(statement.NotAction).filter((a): a is string => typeof a === "string");
        return BAD_ACTIONS.filter((bad) => !excluded.some((ex) => globCovers(ex, bad)));
    }
    const granted = items<string>(statement.Action).filter((a): a is string => typeof a === "string");
    return BAD_ACTIONS.filter((bad) => granted.some((action) => globsIntersect(action, bad)));
}

function describeActions(statement: Record<string, any>): string {
    const bad = badActionsGranted(statement);
    const actions = statement.NotAction !== undefined ? `to every action except ${quote(statement.NotAction)}` : `to ${quote(statement.Action ?? "(no Action)")}`;
    return bad.length > 0 ? `${actions}, which includes the bad actions ${bad.join(", ")}` : `${actions} (no bad action, but a public grant is public whatever its actions)`;
}

// ---------------------------------------------------------------------------------------------
// Policies

export interface PublicOptions {
    /** Bucket policies and access point policies differ on `s3:DataAccessPointArn` wildcards. */
    kind?: PolicyKind;
}

/** The problems ("statement 2, Sid Public allows …") that make a bucket or access point policy public. */
export function publicStatements(document: Record<string, any>, options: PublicOptions = {}): string[] {
    const kind = options.kind ?? "bucket";
    const problems: string[] = [];
    statements(document).forEach((statement, index) => {
        if (statement?.Effect !== "Allow") return;
        const where = describeStatement(statement, index);
        if (statement.NotPrincipal !== undefined) {
            problems.push(`${where} allows everyone except NotPrincipal ${quote(statement.NotPrincipal)} ${describeActions(statement)}`);
            return;
        }
        const principal = principalVerdict(statement.Principal);
        if (!principal.public) return;
        const pinned = conditionEntries(statement.Condition).some((entry) => pinsToFixedValues(entry.operator, entry.key, entry.values, kind));
        if (!pinned) problems.push(`${where} allows ${principal.why} ${describeActions(statement)} without a condition that limits it to fixed values`);
    });
    return problems;
}

export const NON_PUBLIC_HINT =
    "a statement open to everyone is non-public only with a condition that fixes aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:SourceVpc(e), aws:SourceIp (no broader than /8 or /32), aws:userid, aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, s3:DataAccessPoint* or s3:x-amz-server-side-encryption-aws-kms-key-id";

// ---------------------------------------------------------------------------------------------
// Block Public Access settings (all-four-settings, access-point-defaults, multi-region-access-point-defaults)

export const PUBLIC_ACCESS_BLOCK_FLAGS = ["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"] as const;

/**
 * Describes the flags that are not `true` ("blockPublicPolicy false, restrictPublicBuckets unset"),
 * or undefined. `unsetIs` is the provider's default for an absent flag: false on bucket and
 * account blocks, true on access points and Multi-Region Access Points.
 */
export function weakFlags(block: Record<string, any> | undefined, unsetIs: boolean = false): string | undefined {
    const weak = PUBLIC_ACCESS_BLOCK_FLAGS.filter((flag) => {
        const value = block?.[flag];
        return value === undefined || value === null ? !unsetIs : value !== true;
    }).map((flag) => `${flag} ${block?.[flag] === undefined || block?.[flag] === null ? "unset" : quote(block[flag])}`);
    return weak.length > 0 ? weak.join(", ") : undefined;
}
