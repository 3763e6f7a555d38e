import { strict as assert } from "node:assert";
import { gzipSync } from "node:zlib";
import { evaluatePolicies, formatViolation } from "../../policy/evaluate";
import { webClientFigures } from "../../tools/bench/web-client";
import { runProgramIsolated } from "../../tools/engine/program";
import { federationOverrides, SECRET_KEYS } from "../support/federation";
import { named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun } from "../support/program";

const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const ACCOUNT = "123456789012";

/** The test stack with a custom domain whose hosted zone is in Route 53: prod, plus these settings. */
const HOSTED_ZONE_STACK = { "notes-infra:siteDomain": "notes.example.com", "notes-infra:siteHostedZoneId": "Z0123456789ABCDEFGHIJ" };
/** The test stack with a custom domain and a certificate of its own. */
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0d5b1c2e-1234-4abc-9def-0123456789ab";
const CERTIFICATE_STACK = { "notes-infra:siteDomain": "app.example.org", "notes-infra:siteCertificateArn": CERTIFICATE };

/** The header CSP, as CloudFront sends it on every response of every stack. */
const HEADER_CSP =
    "script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; media-src 'none'; manifest-src 'self'; worker-src 'self'; " +
    "frame-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const objects = (run: ProgramRun) => ofType(run, OBJECT);
const object = (run: ProgramRun, key: string) => {
    const found = objects(run).filter((o) => o.inputs.key === key);
    assert.equal(found.length, 1, `expected one object ${key}`);
    return found[0];
};
const script = (run: ProgramRun) => objects(run).find((o) => /^app-[A-Z2-7]+\.js$/.test(o.inputs.key))!;

/**
 * The configuration index.html carries for the page: its one JSON data block, whose text must hold
 * no `<` (a value could otherwise end the block) and parse as JSON.
 */
function embeddedConfig(run: ProgramRun): unknown {
    const html: string = object(run, "index.html").inputs.content;
    const blocks = [...html.matchAll(/<script type="application\/json" id="config">([^]*?)<\/script>/g)];
    assert.equal(blocks.length, 1, "index.html must carry exactly one configuration block");
    assert.doesNotMatch(blocks[0][1], /</);
    return JSON.parse(blocks[0][1]);
}

/** The directives of a policy: name -> sources. */
function directives(policy: string): Map<string, string[]> {
    return new Map(policy.split(";").map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
}

/** index.html's <meta> Content-Security-Policy (HTML-unescaped). */
function documentCsp(run: ProgramRun): string {
    const html: string = object(run, "index.html").inputs.content;
    const match = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    assert.ok(match, "index.html carries no CSP meta");
    return match[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

/** Every check below runs on dev, prod and the hosted-zone test stack; what a custom domain changes is said where it matters. */
const SITE_STACKS: { label: string; stack: string; overrides?: Record<string, string>; domain?: string }[] = [
    ...STACKS.map((stack) => ({ label: `${stack} stack`, stack })),
    { label: "test stack prod + siteDomain, siteHostedZoneId", stack: "prod", overrides: HOSTED_ZONE_STACK, domain: "notes.example.com" },
];

for (const { label, stack, overrides, domain } of SITE_STACKS) {
    describe(`NotesSite (${label})`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack, overrides);
        });

        it("keeps the site bucket private: four Block Public Access flags, ACLs off, SSE-S3, no website hosting", () => {
            const bucket = named(run, "notes-site-content");
            for (const field of ["acl", "grants", "policy", "website", "forceDestroy"]) assert.equal(bucket.inputs[field], undefined, `bucket sets ${field}`);
            const block = named(run, "notes-site-content-public-access");
            assert.deepEqual(block.inputs, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
            assert.deepEqual(named(run, "notes-site-content-ownership").inputs, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
            assert.deepEqual(named(run, "notes-site-content-encryption").inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
            assert.equal(ofType(run, "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2").length, 0);
        });

        it("lets CloudFront read objects only for this distribution, and only over TLS", () => {
            const bucket = named(run, "notes-site-content");
            const distribution = single(run, DISTRIBUTION);
            const policy = named(run, "notes-site-content-policy");
            assert.equal(policy.inputs.bucket, bucket.id);
            assert.deepEqual(policyStatements(policy.inputs.policy), [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [`arn:aws:s3:::${bucket.id}`, `arn:aws:s3:::${bucket.id}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
                {
                    Sid: "CloudFrontReadsForThisDistributionOnly",
                    Effect: "Allow",
                    Principal: { Service: "cloudfront.amazonaws.com" },
                    Action: "s3:GetObject",
                    Resource: `arn:aws:s3:::${bucket.id}/*`,
                    Condition: { StringEquals: { "AWS:SourceArn": `arn:aws:cloudfront::${ACCOUNT}:distribution/${distribution.id}` } },
                },
            ]);
            assert.ok(policy.dependencies.includes(named(run, "notes-site-content-public-access").urn), "the policy waits for the public access block");
        });

        it("reads the bucket through Origin Access Control (s3, sigv4, always), never an OAI or a website endpoint", () => {
            const oac = named(run, "notes-site-oac");
            assert.deepEqual(
                [oac.inputs.originAccessControlOriginType, oac.inputs.signingProtocol, oac.inputs.signingBehavior],
                ["s3", "sigv4", "always"],
            );
            const [origin, ...others] = single(run, DISTRIBUTION).inputs.origins;
            assert.deepEqual(others, []);
            assert.equal(origin.domainName, `${named(run, "notes-site-content").id}.s3.us-east-1.amazonaws.com`);
            assert.equal(origin.originAccessControlId, oac.id);
            assert.equal(origin.s3OriginConfig, undefined);
            assert.equal(origin.customOriginConfig, undefined);
            assert.equal(ofType(run, "aws:cloudfront/originAccessIdentity:OriginAccessIdentity").length, 0);
        });

        it("serves HTTPS only (redirect), HTTP/2 and HTTP/3, compressed, index.html at /, on PriceClass_100", () => {
            const { inputs } = single(run, DISTRIBUTION);
            assert.equal(inputs.enabled, true);
            assert.equal(inputs.httpVersion, "http2and3");
            assert.equal(inputs.defaultRootObject, "index.html");
            assert.equal(inputs.priceClass, "PriceClass_100");
            assert.equal(inputs.orderedCacheBehaviors, undefined);
            const behavior = inputs.defaultCacheBehavior;
            assert.equal(behavior.viewerProtocolPolicy, "redirect-to-https");
            assert.equal(behavior.compress, true);
            assert.deepEqual(behavior.allowedMethods, ["GET", "HEAD"]);
            assert.equal(behavior.targetOriginId, inputs.origins[0].originId);
            // CachingOptimized: the objects' own Cache-Control decides.
            assert.equal(behavior.cachePolicyId, "658327ea-f89d-4fab-a63d-7e88639e58f6");
            if (!domain) {
                assert.deepEqual(inputs.viewerCertificate, { cloudfrontDefaultCertificate: true });
                assert.equal(inputs.aliases, undefined);
            } else {
                assert.equal(inputs.viewerCertificate.minimumProtocolVersion, "TLSv1.2_2021");
                assert.deepEqual(inputs.aliases, [domain]);
            }
        });

        it("answers a missing path with the 404 page and status 404 (S3 says 403 for a missing key under OAC)", () => {
            assert.deepEqual(single(run, DISTRIBUTION).inputs.customErrorResponses, [
                { errorCode: 403, responseCode: 404, responsePagePath: "/404.html", errorCachingMinTtl: 60 },
                { errorCode: 404, responseCode: 404, responsePagePath: "/404.html", errorCachingMinTtl: 60 },
            ]);
            const page = object(run, "404.html");
            assert.match(page.inputs.content, /<h2>Page not found<\/h2>/);
            assert.equal(page.inputs.contentType, "text/html; charset=utf-8");
        });

        it("adds HSTS (2 years, subdomains), nosniff, DENY, the referrer policy and the CSP header to every response", () => {
            const headers = named(run, "notes-site-headers");
            assert.equal(single(run, DISTRIBUTION).inputs.defaultCacheBehavior.responseHeadersPolicyId, headers.id);
            assert.deepEqual(headers.inputs.securityHeadersConfig, {
                strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: true, override: true },
                contentTypeOptions: { override: true },
                frameOptions: { frameOption: "DENY", override: true },
                referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
                contentSecurityPolicy: { contentSecurityPolicy: HEADER_CSP, override: true },
            });
        });

        it("puts exactly the stack's API, regional Cognito endpoints and uploads bucket in index.html's connect-src, and not 'self'", () => {
            const apiId = single(run, "aws:apigatewayv2/api:Api").id;
            const uploads = named(run, "notes-storage-uploads").id;
            const policy = directives(documentCsp(run));
            assert.deepEqual(policy.get("connect-src"), [
                `https://${apiId}.execute-api.us-east-1.amazonaws.com`,
                "https://cognito-idp.us-east-1.amazonaws.com",
                "https://cognito-identity.us-east-1.amazonaws.com",
                `https://${uploads}.s3.us-east-1.amazonaws.com`,
            ]);
            assert.deepEqual(policy.get("default-src"), ["'none'"]);
        });

        it("enforces, header and meta together, no framing, no plugins, a fixed base and no inline or eval'd script", () => {
            const header = directives(HEADER_CSP);
            const meta = directives(documentCsp(run));
            assert.deepEqual(header.get("frame-ancestors"), ["'none'"]);
            for (const policy of [header, meta]) {
                assert.deepEqual(policy.get("object-src"), ["'none'"]);
                assert.deepEqual(policy.get("base-uri"), ["'self'"]);
                assert.deepEqual(policy.get("script-src"), ["'self'"]);
                for (const sources of policy.values()) assert.ok(!sources.some((s) => /unsafe-(inline|eval)|^\*$/.test(s)), `found ${sources.join(" ")}`);
            }
            // The header must not cap the meta's connect-src (two policies are enforced together).
            assert.equal(header.get("connect-src"), undefined);
            assert.equal(header.get("default-src"), undefined);
            // frame-ancestors is ignored in a <meta>; it lives in the header only.
            assert.equal(meta.get("frame-ancestors"), undefined);
        });

        it("writes config.json from the stack outputs, signing in with SRP, and the same configuration into index.html", () => {
            const config = JSON.parse(object(run, "config.json").inputs.content);
            const { tableName: _table, siteUrl: _site, ...client } = run.outputs;
            // mfa: the stack's setting (its default, optional, in these stacks), which decides what the account view offers.
            assert.deepEqual(config, { ...client, authFlowType: "USER_SRP_AUTH", mfa: "optional" });
            assert.deepEqual(Object.keys(client).sort(), ["apiUrl", "bucketName", "identityPoolId", "region", "userPoolClientId", "userPoolId"]);
            assert.deepEqual(embeddedConfig(run), config);
        });

        it("uploads the built client with its content types, a hashed immutable script and revalidated pages, and no source map", () => {
            const hashed = script(run).inputs.key;
            assert.deepEqual(objects(run).map((o) => o.inputs.key).sort(), ["404.html", "config.json", "index.html", `${hashed}.LEGAL.txt`, hashed, "style.css"].sort());
            for (const o of objects(run)) assert.equal(o.inputs.bucket, named(run, "notes-site-content").id);
            const expected: Record<string, [string, string]> = {
                "index.html": ["text/html; charset=utf-8", "no-cache"],
                "404.html": ["text/html; charset=utf-8", "no-cache"],
                "config.json": ["application/json", "no-cache"],
                "style.css": ["text/css; charset=utf-8", "no-cache"],
                [hashed]: ["text/javascript; charset=utf-8", "public, max-age=31536000, immutable"],
                [`${hashed}.LEGAL.txt`]: ["text/plain; charset=utf-8", "public, max-age=31536000, immutable"],
            };
            for (const [key, [contentType, cacheControl]] of Object.entries(expected)) {
                assert.deepEqual([object(run, key).inputs.contentType, object(run, key).inputs.cacheControl], [contentType, cacheControl], key);
            }
            assert.match(object(run, "index.html").inputs.content, new RegExp(`<script type="module" src="${hashed.replace(".", "\\.")}"></script>`));
            assert.ok(!script(run).inputs.content.includes("sourceMappingURL"), "the script links a source map the site does not ship");
        });

        it("keeps the client's script under 100 KB gzip, as the benchmark measures it (bench/results.json webClient)", () => {
            const bytes = gzipSync(Buffer.from(script(run).inputs.content)).length;
            assert.ok(bytes < 100 * 1024, `the script is ${bytes} bytes gzip`);
            const figures = webClientFigures(run);
            assert.equal(figures.scriptBytes, Buffer.byteLength(script(run).inputs.content));
            assert.ok(figures.scriptGzipBytes < 100 * 1024 && Math.abs(figures.scriptGzipBytes - bytes) < 1024, JSON.stringify(figures));
        });

        it("exports the site's address as siteUrl: the distribution's name, or the custom domain", () => {
            if (domain) {
                assert.equal(run.outputs.siteUrl, `https://${domain}/`);
            } else {
                assert.equal(run.outputs.siteUrl, `https://${single(run, DISTRIBUTION).state.domainName}/`);
                assert.match(String(run.outputs.siteUrl), /^https:\/\/d[a-z0-9]+\.cloudfront\.net\/$/);
            }
        });
    });
}

describe("NotesSite with a custom domain in a Route 53 hosted zone (test stack: prod + siteDomain, siteHostedZoneId)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await stackRun("prod", HOSTED_ZONE_STACK);
    });

    it("makes the certificate in us-east-1 through its own provider, validated by DNS in the zone", () => {
        const provider = named(run, "notes-site-us-east-1");
        assert.equal(provider.type, "pulumi:providers:aws");
        assert.equal(provider.inputs.region, "us-east-1");
        const certificate = named(run, "notes-site-certificate");
        assert.deepEqual([certificate.inputs.domainName, certificate.inputs.validationMethod], ["notes.example.com", "DNS"]);
        assert.ok(certificate.provider?.startsWith(`${provider.urn}::`), `certificate provider ${certificate.provider}`);
        const [option] = certificate.state.domainValidationOptions;
        const record = named(run, "notes-site-certificate-validation-record");
        assert.deepEqual(
            [record.inputs.zoneId, record.inputs.name, record.inputs.type, record.inputs.records],
            ["Z0123456789ABCDEFGHIJ", option.resourceRecordName, "CNAME", [option.resourceRecordValue]],
        );
        const validation = named(run, "notes-site-certificate-validation");
        assert.equal(validation.inputs.certificateArn, certificate.state.arn);
        assert.deepEqual(validation.inputs.validationRecordFqdns, [record.state.fqdn]);
        assert.ok(validation.provider?.startsWith(`${provider.urn}::`));
    });

    it("serves the domain with that certificate, SNI only, TLSv1.2_2021 at least", () => {
        const { inputs } = single(run, DISTRIBUTION);
        assert.deepEqual(inputs.aliases, ["notes.example.com"]);
        assert.deepEqual(inputs.viewerCertificate, {
            acmCertificateArn: named(run, "notes-site-certificate").state.arn,
            sslSupportMethod: "sni-only",
            minimumProtocolVersion: "TLSv1.2_2021",
        });
    });

    it("points the domain at the distribution over IPv4 and IPv6 with alias records", () => {
        const distribution = single(run, DISTRIBUTION);
        for (const type of ["A", "AAAA"]) {
            const record = named(run, `notes-site-alias-${type.toLowerCase()}`);
            assert.deepEqual(record.inputs, {
                zoneId: "Z0123456789ABCDEFGHIJ",
                name: "notes.example.com",
                type,
                aliases: [{ name: distribution.state.domainName, zoneId: "Z2FDTNDATAQYW2", evaluateTargetHealth: false }],
            });
        }
        assert.equal(distribution.inputs.isIpv6Enabled, true);
    });

    it("exports the domain as siteUrl and puts its origin, once, in the API's and the bucket's CORS", () => {
        assert.equal(run.outputs.siteUrl, "https://notes.example.com/");
        // prod already lists https://notes.example.com in corsAllowedOrigins.
        assert.deepEqual(single(run, "aws:apigatewayv2/api:Api").inputs.corsConfiguration.allowOrigins, ["https://notes.example.com"]);
        assert.deepEqual(named(run, "notes-storage-uploads-cors").inputs.corsRules[0].allowedOrigins, ["https://notes.example.com"]);
    });

    it("passes the policy pack with no note at all", async () => {
        assert.deepEqual((await evaluatePolicies(run.resources)).map(formatViolation), []);
    });
});

describe("NotesSite with a custom domain and a certificate of its own (test stack: dev + siteDomain, siteCertificateArn)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await stackRun("dev", CERTIFICATE_STACK);
    });

    it("uses the given certificate and makes no certificate, provider or DNS record", () => {
        assert.deepEqual(single(run, DISTRIBUTION).inputs.viewerCertificate, { acmCertificateArn: CERTIFICATE, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
        assert.deepEqual(single(run, DISTRIBUTION).inputs.aliases, ["app.example.org"]);
        assert.deepEqual(ofType(run, "aws:acm/certificate:Certificate", "aws:route53/record:Record", "pulumi:providers:aws").length, 0);
    });

    it("adds the domain's origin to CORS beside corsAllowedOrigins, and exports it", () => {
        const origins = ["http://localhost:3000", "http://localhost:5173", "https://app.example.org"];
        assert.deepEqual(single(run, "aws:apigatewayv2/api:Api").inputs.corsConfiguration.allowOrigins, origins);
        assert.deepEqual(named(run, "notes-storage-uploads-cors").inputs.corsRules[0].allowedOrigins, origins);
        assert.equal(run.outputs.siteUrl, "https://app.example.org/");
    });
});

describe("NotesSite with sign-in providers (test stack: dev + identityProviders, authDomainPrefix notes-login-test)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramIsolated("dev", federationOverrides(), undefined, SECRET_KEYS);
    });

    it("adds the managed login's origin, whose /oauth2/token Amplify calls, to index.html's connect-src", () => {
        const apiId = single(run, "aws:apigatewayv2/api:Api").id;
        const uploads = named(run, "notes-storage-uploads").id;
        assert.deepEqual(directives(documentCsp(run)).get("connect-src"), [
            `https://${apiId}.execute-api.us-east-1.amazonaws.com`,
            "https://cognito-idp.us-east-1.amazonaws.com",
            "https://cognito-identity.us-east-1.amazonaws.com",
            `https://${uploads}.s3.us-east-1.amazonaws.com`,
            "https://notes-login-test.auth.us-east-1.amazoncognito.com",
        ]);
    });

    it("gives the page the oauth output in index.html and config.json", () => {
        const config = JSON.parse(object(run, "config.json").inputs.content);
        assert.equal(config.oauth.domain, "notes-login-test.auth.us-east-1.amazoncognito.com");
        assert.deepEqual(config.oauth, run.outputs.oauth);
        assert.deepEqual(embeddedConfig(run), config);
    });
});

describe("a stack with site: false", () => {
    it("deploys no site, exports no siteUrl and keeps CORS to corsAllowedOrigins", async () => {
        const run = await stackRun("dev", { "notes-infra:site": "false" });
        assert.equal(run.resources.filter((r) => r.type === "notes:site:NotesSite" || r.type.startsWith("aws:cloudfront/")).length, 0);
        assert.equal(ofType(run, OBJECT).length, 0);
        assert.ok(!("siteUrl" in run.outputs));
        assert.deepEqual(single(run, "aws:apigatewayv2/api:Api").inputs.corsConfiguration.allowOrigins, ["http://localhost:3000", "http://localhost:5173"]);
    });
});
