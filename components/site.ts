import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDFRONT_CERTIFICATE_REGION } from "../lib/config";
import { denyInsecureTransport, lockDownBucket } from "../lib/bucket";
import { policyJson } from "../lib/iam";
import { bundleSiteClient, siteObjects, siteScript } from "../web/build";
import { FRAME_OPTION, headerPolicy, HSTS_MAX_AGE_SECONDS, REFERRER_POLICY } from "../web/headers";
import type { WebClientConfig } from "../web/src/config";

/** CloudFront's managed CachingOptimized cache policy: honours the objects' Cache-Control, gzip and Brotli keys. */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/** The oldest viewer TLS a custom domain accepts (CloudFront's security policy). */
export const MINIMUM_VIEWER_TLS = "TLSv1.2_2021";
/** The page a missing path answers with, status 404. */
export const NOT_FOUND_PAGE = "/404.html";

export interface NotesSiteArgs {
    /**
     * The client's configuration (index.html's data block, and `config.json`), from which index.html's
     * Content-Security-Policy names the origins the page may call (the managed login's too with
     * `oauth`): the stack outputs a browser uses and the sign-in flow. Built by index.ts from the API and auth.
     */
    clientConfig: pulumi.Input<WebClientConfig>;
    /** Which edge locations serve the site (`PriceClass_100`, `_200`, `_All`). Fed by `sitePriceClass`. */
    priceClass: string;
    /** A custom domain (`notes.example.com`) instead of the distribution's own name. Fed by `siteDomain`. */
    domain?: string;
    /** An ACM certificate in us-east-1 for `domain`. Fed by `siteCertificateArn`; excludes `hostedZoneId`. */
    certificateArn?: string;
    /**
     * The Route 53 hosted zone of `domain`: the component then creates the certificate (in
     * us-east-1), its DNS validation and the alias records. Fed by `siteHostedZoneId`; excludes `certificateArn`.
     */
    hostedZoneId?: string;
}

/**
 * The reference web client, hosted: a private S3 bucket that only this CloudFront distribution can
 * read (Origin Access Control, pinned to the distribution's ARN), served over HTTPS with HTTP/2 and
 * HTTP/3, compression, security headers and a Content-Security-Policy, and a real 404 page. The
 * content is built while the program runs (esbuild, web/build.ts) and configured from the stack's
 * outputs, so `pulumi up` ends with a URL that works.
 */
export class NotesSite extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    readonly distribution: aws.cloudfront.Distribution;
    readonly bucketName: pulumi.Output<string>;
    readonly distributionId: pulumi.Output<string>;
    readonly distributionArn: pulumi.Output<string>;
    /** The site's origin, `https://<distribution>.cloudfront.net` or `https://<domain>`: what CORS admits. */
    readonly origin: pulumi.Output<string>;
    /** The address people open: the origin and `/`. */
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: NotesSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notes:site:NotesSite", name, {}, opts);
        if (args.domain === undefined && (args.certificateArn !== undefined || args.hostedZoneId !== undefined)) {
            throw new Error(`NotesSite ${name}: certificateArn and hostedZoneId need a domain`);
        }
        if (args.domain !== undefined && (args.certificateArn === undefined) === (args.hostedZoneId === undefined)) {
            throw new Error(`NotesSite ${name}: a domain needs exactly one of certificateArn and hostedZoneId`);
        }

        this.bucket = new aws.s3.Bucket(`${name}-content`, {}, { parent: this });
        const publicAccessBlock = lockDownBucket(`${name}-content`, this.bucket, this);
        const certificateArn = args.domain ? this.certificate(name, args.domain, args) : undefined;
        this.distribution = this.createDistribution(name, args, certificateArn);
        this.allowOnlyThisDistribution(name, publicAccessBlock);
        this.publish(name, args.clientConfig);
        if (args.domain && args.hostedZoneId) this.aliasRecords(name, args.domain, args.hostedZoneId);

        this.bucketName = this.bucket.bucket;
        this.distributionId = this.distribution.id;
        this.distributionArn = this.distribution.arn;
        this.origin = args.domain ? pulumi.output(`https://${args.domain}`) : pulumi.interpolate`https://${this.distribution.domainName}`;
        this.url = pulumi.interpolate`${this.origin}/`;
        this.registerOutputs({ bucketName: this.bucketName, distributionId: this.distributionId, origin: this.origin, url: this.url });
    }

    /** No public access of any kind, no ACLs, encryption at rest; the policy comes with the distribution. */
    /**
     * TLS only, and `s3:GetObject` for CloudFront only on behalf of this distribution. Without the
     * `AWS:SourceArn` condition any distribution, in any account, could read the bucket through
     * its own OAC (the confused deputy); SST's `access: "cloudfront"` policy has that gap. With a
     * fixed source ARN the policy is not public under Block Public Access.
     */
    private allowOnlyThisDistribution(name: string, publicAccessBlock: aws.s3.BucketPublicAccessBlock): void {
        new aws.s3.BucketPolicy(
            `${name}-content-policy`,
            {
                bucket: this.bucket.id,
                policy: policyJson([
                    denyInsecureTransport(this.bucket),
                    {
                        Sid: "CloudFrontReadsForThisDistributionOnly",
                        Effect: "Allow",
                        Principal: { Service: "cloudfront.amazonaws.com" },
                        Action: "s3:GetObject",
                        Resource: pulumi.interpolate`${this.bucket.arn}/*`,
                        Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
                    },
                ]),
            },
            // One configuration change at a time per bucket (S3 can answer OperationAborted).
            { parent: this, dependsOn: [publicAccessBlock] },
        );
    }

    /**
     * A missing path: with OAC and no `s3:ListBucket`, S3 answers 403 for a key that does not
     * exist. Custom error responses turn both 403 and 404 into the 404 page with status 404. A
     * CloudFront Function cannot do this: it runs before the origin and cannot know which keys
     * exist, short of a list of files redeployed with every build. The price: a 403 the origin
     * means (a broken OAC) also shows as a 404 page; CloudFront's own metrics still count it.
     */
    private createDistribution(name: string, args: NotesSiteArgs, certificateArn: pulumi.Input<string> | undefined): aws.cloudfront.Distribution {
        const oac = new aws.cloudfront.OriginAccessControl(
            `${name}-oac`,
            {
                description: "Signs every request of the notes site's distribution to its bucket (SigV4)",
                originAccessControlOriginType: "s3",
                signingBehavior: "always",
                signingProtocol: "sigv4",
            },
            { parent: this },
        );
        const headers = new aws.cloudfront.ResponseHeadersPolicy(
            `${name}-headers`,
            {
                comment: "Notes site: HSTS, nosniff, no framing, referrer policy, and the CSP header (web/headers.ts)",
                securityHeadersConfig: {
                    strictTransportSecurity: { accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS, includeSubdomains: true, override: true },
                    contentTypeOptions: { override: true },
                    frameOptions: { frameOption: FRAME_OPTION, override: true },
                    referrerPolicy: { referrerPolicy: REFERRER_POLICY, override: true },
                    contentSecurityPolicy: { contentSecurityPolicy: headerPolicy(), override: true },
                },
            },
            { parent: this },
        );
        const originId = "site-bucket";
        const notFound = (errorCode: number) => ({ errorCode, responseCode: 404, responsePagePath: NOT_FOUND_PAGE, errorCachingMinTtl: 60 });
        return new aws.cloudfront.Distribution(
            `${name}-cdn`,
            {
                enabled: true,
                comment: "Notes web client",
                httpVersion: "http2and3",
                isIpv6Enabled: true,
                priceClass: args.priceClass,
                defaultRootObject: "index.html",
                aliases: args.domain ? [args.domain] : undefined,
                origins: [{ originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
                defaultCacheBehavior: {
                    targetOriginId: originId,
                    viewerProtocolPolicy: "redirect-to-https",
                    allowedMethods: ["GET", "HEAD"],
                    cachedMethods: ["GET", "HEAD"],
                    compress: true,
                    cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
                    responseHeadersPolicyId: headers.id,
                },
                customErrorResponses: [notFound(403), notFound(404)],
                restrictions: { geoRestriction: { restrictionType: "none" } },
                // The default *.cloudfront.net certificate cannot set a minimum TLS version (docs/production.md).
                viewerCertificate: certificateArn
                    ? { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: MINIMUM_VIEWER_TLS }
                    : { cloudfrontDefaultCertificate: true },
            },
            { parent: this },
        );
    }

    /**
     * The client, built now, as objects: the same esbuild build as `npm start`'s (web/build.ts),
     * with a content-hashed script. Logical names drop the hash, so a new build replaces each
     * object (the new one first) instead of piling old ones up.
     */
    private publish(name: string, clientConfig: pulumi.Input<WebClientConfig>): void {
        const bundle = bundleSiteClient();
        const script = siteScript(bundle)!;
        const objects = pulumi.output(clientConfig).apply((config) => siteObjects(bundle, config));
        for (const key of [...bundle.keys(), "config.json"]) {
            const role = key.startsWith(script) ? `app.js${key.slice(script.length)}` : key;
            const object = objects.apply((all) => all.get(key)!);
            new aws.s3.BucketObjectv2(
                `${name}-file-${role}`,
                { bucket: this.bucket.id, key, content: object.contents, contentType: object.contentType, cacheControl: object.cacheControl },
                { parent: this },
            );
        }
    }

    /** The certificate for `domain`: the given ARN, or one made and validated in the hosted zone (us-east-1, as CloudFront requires). */
    private certificate(name: string, domain: string, args: NotesSiteArgs): pulumi.Input<string> {
        if (args.certificateArn) return args.certificateArn;
        const usEast1 = new aws.Provider(`${name}-${CLOUDFRONT_CERTIFICATE_REGION}`, { region: CLOUDFRONT_CERTIFICATE_REGION }, { parent: this });
        const certificate = new aws.acm.Certificate(
            `${name}-certificate`,
            { domainName: domain, validationMethod: "DNS" },
            { parent: this, provider: usEast1 },
        );
        const option = certificate.domainValidationOptions[0];
        const record = new aws.route53.Record(
            `${name}-certificate-validation-record`,
            {
                zoneId: args.hostedZoneId!,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                allowOverwrite: true,
            },
            { parent: this },
        );
        const validation = new aws.acm.CertificateValidation(
            `${name}-certificate-validation`,
            { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
            { parent: this, provider: usEast1 },
        );
        return validation.certificateArn;
    }

    /** `domain` → the distribution, over IPv4 and IPv6 (alias records: no charge, no TTL to wait out). */
    private aliasRecords(name: string, domain: string, zoneId: string): void {
        for (const type of ["A", "AAAA"]) {
            new aws.route53.Record(
                `${name}-alias-${type.toLowerCase()}`,
                {
                    zoneId,
                    name: domain,
                    type,
                    aliases: [{ name: this.distribution.domainName, zoneId: this.distribution.hostedZoneId, evaluateTargetHealth: false }],
                },
                { parent: this },
            );
        }
    }
}
