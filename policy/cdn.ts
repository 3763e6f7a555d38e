/**
 * CloudFront in front of S3: the bucket stays private and only the distribution reads it (Origin
 * Access Control), viewers use HTTPS, a custom certificate refuses old TLS, responses carry
 * security headers; and the confused deputy of a service principal in a bucket policy.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, stackPolicy } from "./define";
import { PUBLIC_CANNED_ACLS, isFixed, publicGroup, publicStatements } from "./public";
import { TYPES as STORAGE_TYPES } from "./storage";
import { conditionEntries, describeStatement, isUnknownValueError, items, parseDocument, quote, statements } from "./util";

export const TYPES = {
    distribution: ["aws:cloudfront/distribution:Distribution"],
    originAccessControl: ["aws:cloudfront/originAccessControl:OriginAccessControl"],
} as const;

/** Viewer protocol policies that never serve content over plain HTTP. */
const HTTPS_VIEWER_POLICIES = ["https-only", "redirect-to-https"];

/**
 * CloudFront's viewer security policies from TLSv1.2_2021 on (the "Supported protocols and
 * ciphers between viewers and CloudFront" table): TLS 1.2 or newer with forward-secret AEAD
 * ciphers only. Older ones (`TLSv1`, `TLSv1_2016`, `TLSv1.1_2016`, `TLSv1.2_2018`, `SSLv3`) admit
 * TLS 1.0/1.1 or CBC ciphers.
 */
export const MODERN_TLS_POLICIES = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];

/** `<bucket>.s3-website-<region>.amazonaws.com` or `<bucket>.s3-website.<region>.amazonaws.com`. */
const S3_WEBSITE_ENDPOINT = /\.s3-website[.-][a-z0-9-]+\.amazonaws\.com(\.cn)?\.?$/i;
/** The REST endpoints of a bucket: global, regional, legacy dash-regional and dual-stack. */
const S3_REST_ENDPOINT = /\.s3(\.dualstack)?([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?\.?$/i;

/** A value, or undefined when it is unknown at preview (the caller reports what it could not check). */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknownValueError(error)) return undefined;
        throw error;
    }
}

/** Cache behaviors of a distribution, named for messages: the default one, then each ordered one. */
function cacheBehaviors(props: Record<string, any>): { where: string; behavior: Record<string, any> }[] {
    const out = items(props.defaultCacheBehavior).map((behavior) => ({ where: "the default cache behavior", behavior }));
    items(props.orderedCacheBehaviors).forEach((behavior, index) => out.push({ where: `cache behavior ${index + 1} (${quote(behavior?.pathPattern ?? "?")})`, behavior }));
    return out;
}

export const viewerHttps: ResourceValidationPolicy = resourcePolicy({
    name: "cloudfront-viewer-https",
    description: "Checks that every cache behavior of a CloudFront distribution serves viewers over HTTPS only (https-only or redirect-to-https).",
    types: TYPES.distribution,
    validate: (props, ctx) => {
        for (const { where, behavior } of cacheBehaviors(props)) {
            ctx.check(`viewerProtocolPolicy of ${where}`, () => {
                const policy = behavior?.viewerProtocolPolicy;
                if (HTTPS_VIEWER_POLICIES.includes(policy)) return;
                ctx.report(`Distribution ${ctx.name} must set viewerProtocolPolicy to redirect-to-https or https-only in ${where}, found ${quote(policy ?? "unset")}: allow-all serves the site, its scripts and its cookies over plain HTTP.`);
            });
        }
    },
});

export const minimumTls: ResourceValidationPolicy = resourcePolicy({
    name: "cloudfront-minimum-tls",
    description: "Checks that a CloudFront distribution with a custom certificate refuses viewers older than TLSv1.2_2021.",
    types: TYPES.distribution,
    validate: (props, ctx) => {
        const certificate = items(props.viewerCertificate)[0];
        ctx.check("viewerCertificate", () => {
            const custom = Boolean(certificate?.acmCertificateArn) || Boolean(certificate?.iamCertificateId);
            // The default *.cloudfront.net certificate cannot set a minimum: CloudFront applies TLSv1 to it.
            if (!custom) return;
            const version = certificate.minimumProtocolVersion;
            if (MODERN_TLS_POLICIES.includes(version)) return;
            ctx.report(
                `Distribution ${ctx.name} uses a custom certificate and must set viewerCertificate.minimumProtocolVersion to ${MODERN_TLS_POLICIES.join(", ")}; found ${quote(version ?? "unset (the provider's default, TLSv1)")}.`,
            );
        });
    },
});

export const responseHeadersPolicy: ResourceValidationPolicy = resourcePolicy({
    name: "cloudfront-response-headers-policy",
    description: "Checks that every cache behavior of a CloudFront distribution attaches a response headers policy (security headers such as HSTS and a CSP).",
    types: TYPES.distribution,
    enforcementLevel: "advisory",
    validate: (props, ctx) => {
        for (const { where, behavior } of cacheBehaviors(props)) {
            ctx.check(`responseHeadersPolicyId of ${where}`, () => {
                if (typeof behavior?.responseHeadersPolicyId === "string" && behavior.responseHeadersPolicyId.length > 0) return;
                ctx.report(`Distribution ${ctx.name} should attach a response headers policy (responseHeadersPolicyId) to ${where}: without one, responses carry no HSTS, nosniff, frame or Content-Security-Policy header.`);
            });
        }
    },
});

const bucketTypes = new Set<string>(STORAGE_TYPES.bucket);

/** A stack's buckets by every domain name CloudFront may be given for them. */
function bucketsByDomain(resources: PolicyResource[]): Map<string, { bucket: PolicyResource; website: boolean }> {
    const byDomain = new Map<string, { bucket: PolicyResource; website: boolean }>();
    for (const bucket of resources.filter((r) => bucketTypes.has(r.type))) {
        for (const key of ["bucketRegionalDomainName", "bucketDomainName", "websiteEndpoint", "websiteDomain"]) {
            const value = known(() => bucket.props[key]);
            if (typeof value === "string" && value.length > 0) byDomain.set(value.toLowerCase(), { bucket, website: key.startsWith("website") });
        }
    }
    return byDomain;
}

/** What makes a bucket public, seen from the stack: its policies, ACLs and website hosting. */
function publicBucketProblems(bucket: PolicyResource, resources: PolicyResource[]): string[] {
    const names = new Set([known(() => bucket.props.bucket), known(() => bucket.props.id)].filter((v): v is string => typeof v === "string"));
    const attached = (resource: PolicyResource) =>
        (resource.propertyDependencies.bucket ?? []).some((dep) => dep.urn === bucket.urn) || names.has(known(() => resource.props.bucket));
    const problems: string[] = [];
    const judge = (subject: string, policy: unknown) => {
        if (policy === undefined || policy === null || policy === "") return;
        const { document } = parseDocument(policy);
        if (document && publicStatements(document, { kind: "bucket" }).length > 0) problems.push(`${subject} is public`);
    };
    judge(`its inline policy`, known(() => bucket.props.policy));
    const acl = known(() => bucket.props.acl);
    if (typeof acl === "string" && PUBLIC_CANNED_ACLS.has(acl)) problems.push(`its ACL is ${quote(acl)}`);
    if (items(known(() => bucket.props.grants)).some((grant) => publicGroup(grant?.uri))) problems.push("its ACL grants a public group");
    if (items(known(() => bucket.props.website)).length > 0) problems.push("it hosts a website");
    for (const resource of resources) {
        if (!attached(resource)) continue;
        if (STORAGE_TYPES.bucketPolicy.includes(resource.type as never)) judge(`bucket policy ${resource.name}`, known(() => resource.props.policy));
        if ((STORAGE_TYPES.website as readonly string[]).includes(resource.type)) problems.push(`website configuration ${resource.name} serves it`);
    }
    return problems;
}

export const s3OriginAccessControl: StackValidationPolicy = stackPolicy({
    name: "cloudfront-s3-origin-access-control",
    description:
        "Checks that every S3 origin of a CloudFront distribution reads a private bucket through Origin Access Control: no legacy origin access identity, no S3 website endpoint, no public bucket behind it.",
    validate: (resources, ctx) => {
        const buckets = bucketsByDomain(resources);
        const accessControls = new Map<string, PolicyResource>();
        for (const resource of resources) {
            if (!TYPES.originAccessControl.includes(resource.type as never)) continue;
            const id = known(() => resource.props.id);
            if (typeof id === "string" && id.length > 0) accessControls.set(id, resource);
        }
        for (const distribution of resources.filter((r) => TYPES.distribution.includes(r.type as never))) {
            const subject = `Distribution ${distribution.name}`;
            ctx.check("origins", distribution, () => {
                for (const origin of items(distribution.props.origins)) {
                    const domain = String(origin?.domainName ?? "").toLowerCase();
                    const where = `origin ${quote(origin?.originId ?? domain)}`;
                    const inStack = buckets.get(domain);
                    const oai = items(origin?.s3OriginConfig)[0]?.originAccessIdentity;
                    const website = S3_WEBSITE_ENDPOINT.test(domain) || inStack?.website === true;
                    const s3 = website || inStack !== undefined || S3_REST_ENDPOINT.test(domain) || items(origin?.s3OriginConfig).length > 0;
                    if (!s3) continue;
                    if (website) {
                        ctx.report(`${subject} must not use the S3 website endpoint ${domain} as ${where}: it serves plain HTTP from a bucket that has to be public, and Origin Access Control cannot sign for it. Use the bucket's regional domain name with an origin access control.`, distribution.urn);
                        continue;
                    }
                    if (typeof oai === "string" && oai.length > 0) {
                        ctx.report(`${subject} must read ${where} through an origin access control, not the legacy origin access identity ${oai} (no SSE-KMS, no new Regions, no signed PUTs; AWS recommends OAC).`, distribution.urn);
                    }
                    const oacId = origin?.originAccessControlId;
                    if (typeof oacId !== "string" || oacId.length === 0) {
                        ctx.report(`${subject} must set originAccessControlId on ${where} (${domain}): without Origin Access Control the bucket behind it is reachable only if it is public.`, distribution.urn);
                    } else {
                        // By id; else the one origin access control the origins came from (ids are unknown at preview).
                        const fromOrigins = (distribution.propertyDependencies.origins ?? []).filter((dep) => TYPES.originAccessControl.includes(dep.type as never));
                        const oac = accessControls.get(oacId) ?? (fromOrigins.length === 1 ? fromOrigins[0] : undefined);
                        const signing = oac ? known(() => oac.props.signingBehavior) : undefined;
                        const originType = oac ? known(() => oac.props.originAccessControlOriginType) : undefined;
                        if (signing === "never") ctx.report(`${subject} reads ${where} through origin access control ${oac!.name}, which must sign requests (signingBehavior always), found never.`, distribution.urn);
                        if (originType !== undefined && originType !== "s3") ctx.report(`${subject} reads ${where} through origin access control ${oac!.name}, whose originAccessControlOriginType must be s3, found ${quote(originType)}.`, distribution.urn);
                    }
                    if (inStack) {
                        for (const problem of publicBucketProblems(inStack.bucket, resources)) {
                            ctx.report(`${subject} must serve ${where} from a private bucket; bucket ${inStack.bucket.name} behind it is not: ${problem}.`, distribution.urn);
                        }
                    }
                }
            });
        }
    },
});

/** Condition keys that tie a service principal's request to one resource or account (AWS's confused-deputy guidance). */
const SOURCE_KEYS = new Set(["aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceowner"]);
const PINNING_OPERATORS = new Set(["stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"]);

/** Whether one statement's conditions fix the source of a service principal's request. */
function pinsSource(statement: Record<string, any>): boolean {
    return conditionEntries(statement.Condition).some((entry) => {
        const operator = entry.operator.toLowerCase().replace(/^foranyvalue:/, "");
        return PINNING_OPERATORS.has(operator) && SOURCE_KEYS.has(entry.key.toLowerCase()) && entry.values.length > 0 && entry.values.every(isFixed);
    });
}

function servicePrincipals(principal: unknown): string[] {
    if (principal === null || typeof principal !== "object" || Array.isArray(principal)) return [];
    return items<string>((principal as Record<string, unknown>).Service).filter((value): value is string => typeof value === "string");
}

export const serviceSourceCondition: ResourceValidationPolicy = resourcePolicy({
    name: "s3-bucket-policy-service-source",
    description:
        "Checks that a bucket policy granting an AWS service principal (cloudfront.amazonaws.com, …) fixes aws:SourceArn or aws:SourceAccount, so no other account's resource can use the service against the bucket (the confused deputy).",
    types: [...STORAGE_TYPES.bucketPolicy, ...STORAGE_TYPES.bucket],
    enforcementLevel: "advisory",
    validate: (props, ctx) => {
        ctx.check("policy", () => {
            const policy = props.policy;
            if (policy === undefined || policy === null || policy === "") return;
            const { document } = parseDocument(policy);
            // An unparsable document is s3-no-public-bucket-policy's finding.
            if (!document) return;
            const subject = bucketTypes.has(ctx.type) ? `The inline policy of bucket ${ctx.name}` : `Bucket policy ${ctx.name}`;
            statements(document).forEach((statement, index) => {
                if (statement?.Effect !== "Allow") return;
                const services = servicePrincipals(statement.Principal);
                if (services.length === 0 || pinsSource(statement)) return;
                ctx.report(
                    `${subject} should fix aws:SourceArn (or aws:SourceAccount) in ${describeStatement(statement, index)}, which grants ${services.join(", ")} ${quote(statement.Action ?? statement.NotAction)}: ` +
                        `without it the service acts for any resource of any account, e.g. anyone's CloudFront distribution could read this bucket (the confused deputy). It is not public under AWS's definition (a service principal is fixed).`,
                );
            });
        });
    },
});

export const cdnPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [s3OriginAccessControl, viewerHttps, minimumTls, responseHeadersPolicy, serviceSourceCondition];
