import { strict as assert } from "node:assert";
import { evaluatePolicies, formatViolation, isBlocking, ResourceRecord, UNKNOWN, Violation } from "../../policy/evaluate";
import { policies } from "../../policy/policies";
import { STACKS, stackRun } from "../support/program";

type Mutation = (resources: ResourceRecord[]) => void;

/** The dev stack's recorded resources with one change applied (a deep copy: the cached run is shared). */
async function devWith(mutation: Mutation): Promise<ResourceRecord[]> {
    const resources: ResourceRecord[] = structuredClone((await stackRun("dev")).resources);
    mutation(resources);
    return resources;
}

function the(resources: ResourceRecord[], type: string, name?: RegExp): ResourceRecord {
    const found = resources.filter((r) => r.type === type && (!name || name.test(r.name)));
    assert.equal(found.length, 1, `expected one ${type} ${name ?? ""}, found ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** Sets a property on both what a resource policy sees (inputs) and what a stack policy sees (outputs). */
function set(record: ResourceRecord, key: string, value: unknown): void {
    record.inputs[key] = value;
    record.state[key] = value;
}

function added(resources: ResourceRecord[], type: string, name: string, inputs: Record<string, any>, extra: Partial<ResourceRecord> = {}): void {
    resources.push({
        type,
        name,
        urn: `urn:pulumi:dev::notes-infra::${type}::${name}`,
        id: `${name}-id`,
        custom: true,
        inputs,
        state: { ...inputs },
        dependencies: [],
        propertyDependencies: {},
        ...extra,
    });
}

const BUCKET = "aws:s3/bucket:Bucket";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ROUTE = "aws:apigatewayv2/route:Route";
const API = "aws:apigatewayv2/api:Api";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const CLIENT = "aws:cognito/userPoolClient:UserPoolClient";

describe("the policy pack on the real program", function () {
    this.timeout(120_000);
    // Start both stacks' child processes at once; each test awaits the cached run it needs.
    before(() => Promise.all(STACKS.map((stack) => stackRun(stack))));

    for (const stack of STACKS) {
        it(`passes every policy for the ${stack} stack, with no advisory notes either`, async () => {
            const run = await stackRun(stack);
            const violations = await evaluatePolicies(run.resources);
            assert.deepEqual(violations.map(formatViolation), []);
        });
    }

    it("has resources of the types the pack guards, so passing is not vacuous", async () => {
        const types = new Set((await stackRun("dev")).resources.map((r) => r.type));
        for (const type of [BUCKET, PAB, ROUTE, API, DISTRIBUTION, "aws:cloudfront/originAccessControl:OriginAccessControl", "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:cognito/identityPool:IdentityPool", "aws:iam/role:Role"]) {
            assert.ok(types.has(type), `the program has no ${type}`);
        }
    });

    const mutations: { what: string; mutate: Mutation; policy: string; resource: RegExp | string }[] = [
        { what: "a route's authorization set to NONE", mutate: (rs) => set(the(rs, ROUTE, /list/), "authorizationType", "NONE"), policy: "apigatewayv2-route-iam-auth", resource: /list/ },
        { what: "a route's authorization removed", mutate: (rs) => delete the(rs, ROUTE, /delete/).inputs.authorizationType, policy: "apigatewayv2-route-iam-auth", resource: /delete/ },
        { what: "a catch-all $default route without auth", mutate: (rs) => added(rs, ROUTE, "catch-all", { apiId: "x", routeKey: "$default", target: "integrations/x" }), policy: "apigatewayv2-route-iam-auth", resource: "catch-all" },
        ...["blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"].map((flag) => ({
            what: `the public access block's ${flag} set to false`,
            mutate: (rs: ResourceRecord[]) => set(the(rs, PAB, /uploads/), flag, false),
            policy: "s3-public-access-block-all-flags",
            resource: /public-access/,
        })),
        { what: "a public access block flag off, seen by the stack policy on the bucket", mutate: (rs) => set(the(rs, PAB, /uploads/), "restrictPublicBuckets", false), policy: "s3-bucket-has-public-access-block", resource: /uploads$/ },
        { what: "the public access block removed", mutate: (rs) => rs.splice(rs.indexOf(the(rs, PAB, /uploads/)), 1), policy: "s3-bucket-has-public-access-block", resource: /uploads$/ },
        {
            what: "a public statement added to the bucket policy",
            mutate: (rs) => {
                const policy = the(rs, "aws:s3/bucketPolicy:BucketPolicy", /uploads/);
                const doc = JSON.parse(policy.inputs.policy);
                doc.Statement.push({ Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::x/*" });
                set(policy, "policy", JSON.stringify(doc));
            },
            policy: "s3-no-public-bucket-policy",
            resource: /tls-only/,
        },
        { what: "an inline public policy on the bucket", mutate: (rs) => set(the(rs, BUCKET, /uploads$/), "policy", { Statement: { Effect: "Allow", Principal: "*", Action: "s3:GetObject" } }), policy: "s3-no-public-bucket-policy", resource: /uploads$/ },
        { what: "a public-read ACL on the bucket", mutate: (rs) => set(the(rs, BUCKET, /uploads$/), "acl", "public-read"), policy: "s3-no-public-acl", resource: /uploads$/ },
        {
            what: "a bucket ACL resource granting AllUsers",
            mutate: (rs) =>
                added(rs, "aws:s3/bucketAclV2:BucketAclV2", "uploads-acl", {
                    bucket: "b",
                    accessControlPolicy: { owner: { id: "o" }, grants: [{ grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" }] },
                }),
            policy: "s3-no-public-acl",
            resource: "uploads-acl",
        },
        {
            what: "an access point whose policy is open to everyone",
            mutate: (rs) =>
                added(rs, "aws:s3/accessPoint:AccessPoint", "uploads-ap", {
                    bucket: "b",
                    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] }),
                }),
            policy: "s3-no-public-access-point-policy",
            resource: "uploads-ap",
        },
        { what: "website hosting on the bucket", mutate: (rs) => set(the(rs, BUCKET, /uploads$/), "website", { indexDocument: "index.html" }), policy: "s3-no-website-hosting", resource: /uploads$/ },
        { what: "object ownership set to ObjectWriter", mutate: (rs) => set(the(rs, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", /uploads/), "rule", { objectOwnership: "ObjectWriter" }), policy: "s3-bucket-owner-enforced", resource: /ownership/ },
        { what: "quick create on the HTTP API", mutate: (rs) => set(the(rs, API), "target", "arn:aws:lambda:us-east-1:123456789012:function:f"), policy: "apigatewayv2-api-no-quick-create", resource: /http/ },
        {
            what: "an OpenAPI body without auth on the HTTP API",
            mutate: (rs) => set(the(rs, API), "body", JSON.stringify({ openapi: "3.0.1", info: { title: "t", version: "1" }, paths: { "/notes": { get: {} } } })),
            policy: "apigateway-openapi-iam-auth",
            resource: /http/,
        },
        { what: "a REST method without auth", mutate: (rs) => added(rs, "aws:apigateway/method:Method", "rest-get", { restApi: "r", resourceId: "x", httpMethod: "GET", authorization: "NONE" }), policy: "apigateway-method-iam-auth", resource: "rest-get" },
        { what: "a public Lambda function URL", mutate: (rs) => added(rs, "aws:lambda/functionUrl:FunctionUrl", "create-url", { functionName: "f", authorizationType: "NONE" }), policy: "lambda-function-url-iam-auth", resource: "create-url" },
        { what: "a WebSocket API without a $connect route", mutate: (rs) => added(rs, "aws:apigatewayv2/api:Api", "chat-socket", { protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action" }), policy: "apigatewayv2-websocket-connect-route", resource: "chat-socket" },
        { what: "an AppSync GraphQL API with an API key", mutate: (rs) => added(rs, "aws:appsync/graphQLApi:GraphQLApi", "notes-graphql", { name: "notes", authenticationType: "API_KEY" }), policy: "appsync-graphql-iam-auth", resource: "notes-graphql" },
        {
            what: "an AppSync Event API that takes Cognito tokens on connect",
            mutate: (rs) => added(rs, "aws:appsync/api:Api", "notes-events", { name: "notes", eventConfig: { authProviders: [{ authType: "AWS_IAM" }], connectionAuthModes: [{ authType: "AMAZON_COGNITO_USER_POOLS" }], defaultPublishAuthModes: [{ authType: "AWS_IAM" }], defaultSubscribeAuthModes: [{ authType: "AWS_IAM" }] } }),
            policy: "appsync-event-api-iam-auth",
            resource: "notes-events",
        },
        { what: "unauthenticated identities on the identity pool", mutate: (rs) => set(the(rs, "aws:cognito/identityPool:IdentityPool"), "allowUnauthenticatedIdentities", true), policy: "cognito-identity-pool-no-unauthenticated", resource: /identities/ },
        ...(["amr", "aud"] as const).map((key) => ({
            what: `the authenticated role's trust without the ${key} condition`,
            mutate: (rs: ResourceRecord[]) => {
                const role = rs.find((r) => r.type === "aws:iam/role:Role" && String(r.inputs.assumeRolePolicy).includes("cognito-identity"))!;
                const doc = JSON.parse(role.inputs.assumeRolePolicy);
                for (const block of Object.values<Record<string, unknown>>(doc.Statement[0].Condition)) delete block[`cognito-identity.amazonaws.com:${key}`];
                set(role, "assumeRolePolicy", JSON.stringify(doc));
            },
            policy: "iam-cognito-trust-conditions",
            resource: /auth/,
        })),
        {
            what: "the site's distribution serving plain HTTP",
            mutate: (rs) => set(the(rs, DISTRIBUTION), "defaultCacheBehavior", { ...the(rs, DISTRIBUTION).inputs.defaultCacheBehavior, viewerProtocolPolicy: "allow-all" }),
            policy: "cloudfront-viewer-https",
            resource: /cdn$/,
        },
        {
            what: "a custom certificate that admits TLSv1",
            mutate: (rs) => set(the(rs, DISTRIBUTION), "viewerCertificate", { acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0d5b1c2e-1234-4abc-9def-0123456789ab", sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1" }),
            policy: "cloudfront-minimum-tls",
            resource: /cdn$/,
        },
        {
            what: "the site's origin without its origin access control",
            mutate: (rs) => set(the(rs, DISTRIBUTION), "origins", the(rs, DISTRIBUTION).inputs.origins.map(({ originAccessControlId: _oac, ...origin }: Record<string, unknown>) => origin)),
            policy: "cloudfront-s3-origin-access-control",
            resource: /cdn$/,
        },
        {
            what: "a function alarm retyped with a function name the stack does not have",
            mutate: (rs) => set(the(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", /list-errors/), "dimensions", { FunctionName: "notes-api-list" }),
            policy: "cloudwatch-alarm-dimensions",
            resource: /list-errors/,
        },
        { what: "the alarm topic encrypted with aws/sns", mutate: (rs) => set(the(rs, "aws:sns/topic:Topic"), "kmsMasterKeyId", "alias/aws/sns"), policy: "cloudwatch-alarm-topic-customer-key", resource: /alarms$/ },
        { what: "the implicit OAuth flow on the app client", mutate: (rs) => set(the(rs, CLIENT), "allowedOauthFlows", ["code", "implicit"]), policy: "cognito-client-no-implicit-flow", resource: /web-client/ },
        { what: "a plain-http callback URL on the app client", mutate: (rs) => set(the(rs, CLIENT), "callbackUrls", ["http://notes.example.com/"]), policy: "cognito-client-https-callbacks", resource: /web-client/ },
    ];

    /** Advisory policies: what they must report, as advisory, and never block. */
    const advisories: { what: string; mutate: Mutation; policy: string; resource: RegExp }[] = [
        {
            what: "the site's distribution without its response headers policy",
            mutate: (rs) => set(the(rs, DISTRIBUTION), "defaultCacheBehavior", { ...the(rs, DISTRIBUTION).inputs.defaultCacheBehavior, responseHeadersPolicyId: undefined }),
            policy: "cloudfront-response-headers-policy",
            resource: /cdn$/,
        },
        {
            what: "the site bucket's CloudFront grant without its AWS:SourceArn condition",
            mutate: (rs) => {
                const policy = the(rs, "aws:s3/bucketPolicy:BucketPolicy", /site/);
                const doc = JSON.parse(policy.inputs.policy);
                for (const statement of doc.Statement) if (statement.Effect === "Allow") delete statement.Condition;
                set(policy, "policy", JSON.stringify(doc));
            },
            policy: "s3-bucket-policy-service-source",
            resource: /site-content-policy$/,
        },
        {
            what: "an OAuth scope the app does not need",
            mutate: (rs) => {
                set(the(rs, CLIENT), "allowedOauthFlows", ["code"]);
                set(the(rs, CLIENT), "allowedOauthScopes", ["openid", "phone"]);
            },
            policy: "cognito-client-needed-scopes-only",
            resource: /web-client/,
        },
    ];

    for (const { what, mutate, policy, resource } of advisories) {
        it(`notes ${what} as advisory, naming the resource, without blocking`, async () => {
            const violations = await evaluatePolicies(await devWith(mutate));
            assert.deepEqual(violations.map((v) => [v.enforcementLevel, v.policyName]), [["advisory", policy]]);
            assert.ok(resource.test(violations[0].resourceName ?? ""), formatViolation(violations[0]));
            assert.ok(violations[0].message.includes(violations[0].resourceName!));
        });
    }

    for (const { what, mutate, policy, resource } of mutations) {
        it(`catches ${what} and names the resource`, async () => {
            const violations = await evaluatePolicies(await devWith(mutate));
            const blocking = violations.filter(isBlocking);
            assert.ok(blocking.length > 0, `nothing caught ${what}`);
            const hit = blocking.filter((v) => v.policyName === policy);
            assert.equal(hit.length >= 1, true, `expected ${policy}, got:\n${violations.map(formatViolation).join("\n")}`);
            for (const v of hit) {
                assert.ok(typeof resource === "string" ? v.resourceName === resource : resource.test(v.resourceName ?? ""), formatViolation(v));
                assert.ok(v.message.includes(v.resourceName!), `the message names ${v.resourceName}: ${v.message}`);
            }
        });
    }

    it("covers every policy of the pack with at least one mutation", () => {
        const covered = new Set([...mutations, ...advisories].map((m) => m.policy));
        assert.deepEqual(policies.map((p) => p.name).filter((name) => !covered.has(name)), []);
    });

    it("reports a bucket policy that is unknown at preview as advisory, and fails closed with failOnUnknown", async () => {
        const resources = await devWith((rs) => set(the(rs, "aws:s3/bucketPolicy:BucketPolicy", /uploads/), "policy", UNKNOWN.string));
        const advisory = await evaluatePolicies(resources);
        // Both rules that read bucket policies say what they could not check.
        assert.deepEqual(advisory.map((v) => [v.enforcementLevel, v.policyName]), [["advisory", "s3-no-public-bucket-policy"], ["advisory", "s3-bucket-policy-service-source"]]);
        for (const note of advisory) assert.match(note.message, /Could not check policy of .* notes-storage-uploads-tls-only at preview/);
        const closed = await evaluatePolicies(resources, { config: { "s3-no-public-bucket-policy": { failOnUnknown: true } } });
        assert.deepEqual(closed.map((v) => [v.enforcementLevel, v.policyName]), [["mandatory", "s3-no-public-bucket-policy"], ["advisory", "s3-bucket-policy-service-source"]]);
    });
});

describe("policy pack configuration in the evaluator", () => {
    const openRoute: Mutation = (rs) => set(the(rs, ROUTE, /list/), "authorizationType", "NONE");
    const levels = (violations: Violation[]) => violations.map((v) => `${v.enforcementLevel} ${v.policyName}`);

    it("makes a rule advisory when the config file says so", async () => {
        const violations = await evaluatePolicies(await devWith(openRoute), { config: { "apigatewayv2-route-iam-auth": "advisory" } });
        assert.deepEqual(levels(violations), ["advisory apigatewayv2-route-iam-auth"]);
    });

    it("applies `all`, and a policy's own entry wins over it", async () => {
        const resources = await devWith((rs) => {
            openRoute(rs);
            set(the(rs, BUCKET, /uploads$/), "acl", "public-read");
        });
        const violations = await evaluatePolicies(resources, { config: { all: "advisory", "s3-no-public-acl": { enforcementLevel: "mandatory" } } });
        assert.deepEqual(levels(violations).sort(), ["advisory apigatewayv2-route-iam-auth", "mandatory s3-no-public-acl"]);
    });

    it("skips a disabled policy", async () => {
        assert.deepEqual(await evaluatePolicies(await devWith(openRoute), { config: { "apigatewayv2-route-iam-auth": "disabled" } }), []);
    });

    it("passes policy settings through getConfig", async () => {
        const resources = await devWith((rs) => set(the(rs, ROUTE, /list/), "routeKey", "OPTIONS /notes"));
        assert.equal((await evaluatePolicies(resources)).length, 0, "the program's routes are all AWS_IAM");
        const optionsOpen = await devWith((rs) => {
            set(the(rs, ROUTE, /list/), "routeKey", "OPTIONS /notes");
            set(the(rs, ROUTE, /list/), "authorizationType", "NONE");
        });
        assert.equal((await evaluatePolicies(optionsOpen)).length, 1);
        assert.deepEqual(await evaluatePolicies(optionsOpen, { config: { "apigatewayv2-route-iam-auth": { allowOptionsWithoutAuth: true } } }), []);
    });

    it("rejects a config that names an unknown policy, setting or level", async () => {
        const resources = await devWith(() => undefined);
        await assert.rejects(evaluatePolicies(resources, { config: { "no-such-policy": "advisory" } }), /"no-such-policy" is not a policy of this pack/);
        await assert.rejects(evaluatePolicies(resources, { config: { "s3-no-public-acl": { failOnUnknwn: true } } }), /"failOnUnknwn" is not a setting of this policy/);
        await assert.rejects(evaluatePolicies(resources, { config: { "s3-no-public-acl": { failOnUnknown: "yes" } } }), /"failOnUnknown" must be boolean/);
        await assert.rejects(evaluatePolicies(resources, { config: { all: "strict" as any } }), /enforcementLevel "strict" is not one of/);
    });

    it("prints violations as `<enforcement> <policy-name> <resource type> <resource name>: <message>`", async () => {
        const [violation] = await evaluatePolicies(await devWith(openRoute));
        assert.equal(
            formatViolation(violation),
            `mandatory apigatewayv2-route-iam-auth ${ROUTE} notes-api-list-route: Route GET /notes (notes-api-list-route) must use AWS_IAM authorization, found NONE.`,
        );
    });
});
