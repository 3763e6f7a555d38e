import { strict as assert } from "node:assert";
import { NOTES_ROUTES, routeArnPattern } from "../../components/api";
import { EXPECTED_ROUTES, expectedRoute, routeKeyDifferences, routeKeysToTest } from "../support/expected-api";
import { runFixtureProgram } from "../support/fixture-program";
import { asList, named, ofType, policyStatements, ProgramRun, single, STACKS, stackRun, stackSetting } from "../support/program";

const SIGV4_HEADERS = ["authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-user-agent"];

for (const stack of STACKS) {
    describe(`NotesApi (${stack} stack)`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await stackRun(stack);
        });

        it("serves exactly the five note routes and DELETE /account, each with AWS_IAM authorization", () => {
            const routes = ofType(run, "aws:apigatewayv2/route:Route");
            assert.deepEqual(
                routes.map((route) => route.inputs.routeKey).sort(),
                ["DELETE /account", "DELETE /notes/{id}", "GET /notes", "GET /notes/{id}", "POST /notes", "PUT /notes/{id}"],
            );
            for (const route of routes) {
                assert.equal(route.inputs.authorizationType, "AWS_IAM", `${route.inputs.routeKey} must use AWS_IAM`);
                assert.equal(route.inputs.apiId, single(run, "aws:apigatewayv2/api:Api").id);
            }
        });

        it("has no $default or catch-all route and no quick-create target on the API", () => {
            const keys = ofType(run, "aws:apigatewayv2/route:Route").map((route) => String(route.inputs.routeKey));
            assert.ok(!keys.some((key) => key === "$default" || key.startsWith("ANY ") || key.includes("{proxy+}")));
            const api = single(run, "aws:apigatewayv2/api:Api");
            assert.equal(api.inputs.protocolType, "HTTP");
            assert.equal(api.inputs.target, undefined);
            assert.equal(api.inputs.routeKey, undefined);
            assert.equal(api.inputs.body, undefined);
        });

        it("answers browser preflights with CORS that allows the SigV4 headers and only the stack's origins and the hosted site's", () => {
            const cors = single(run, "aws:apigatewayv2/api:Api").inputs.corsConfiguration;
            assert.deepEqual(cors.allowOrigins, [...(stackSetting(run, "corsAllowedOrigins") as string[]), `https://${named(run, "notes-site-cdn").state.domainName}`]);
            for (const header of SIGV4_HEADERS) assert.ok(cors.allowHeaders.includes(header), `allowHeaders lacks ${header}`);
            // The SigV4 headers, and If-Match for updates and deletes: nothing else.
            assert.deepEqual([...cors.allowHeaders].sort(), [...SIGV4_HEADERS, "if-match"].sort());
            assert.ok(!cors.allowHeaders.includes("*") && !cors.allowOrigins.includes("*"));
            assert.deepEqual([...cors.allowMethods].sort(), ["DELETE", "GET", "POST", "PUT"]);
        });

        it("lets browser code read ETag (for If-Match) and Retry-After (on 503 answers)", () => {
            const cors = single(run, "aws:apigatewayv2/api:Api").inputs.corsConfiguration;
            assert.deepEqual([...cors.exposeHeaders].map((header: string) => header.toLowerCase()).sort(), ["etag", "retry-after"]);
        });

        it("deploys a $default stage with auto-deploy, JSON access logs and the stack's throttling", () => {
            const stage = single(run, "aws:apigatewayv2/stage:Stage");
            const format = JSON.parse(stage.inputs.accessLogSettings.format);
            assert.equal(stage.inputs.name, "$default");
            assert.equal(stage.inputs.autoDeploy, true);
            const accessLogs = named(run, "notes-api-access-logs");
            assert.equal(stage.inputs.accessLogSettings.destinationArn, accessLogs.state.arn);
            assert.equal(format.integrationError, "$context.integrationErrorMessage");
            assert.equal(accessLogs.inputs.retentionInDays, stackSetting(run, "logRetentionDays"));
            assert.equal(format.requestId, "$context.requestId");
            assert.equal(format.cognitoIdentityId, "$context.identity.cognitoIdentityId");
            assert.equal(stage.inputs.defaultRouteSettings.throttlingBurstLimit, stackSetting(run, "throttlingBurstLimit"));
            assert.equal(stage.inputs.defaultRouteSettings.throttlingRateLimit, stackSetting(run, "throttlingRateLimit"));
        });

        it("writes access logs to a log group under /aws/vendedlogs/ named after the component and the API id", () => {
            // Vended-log groups are covered without growing the account's CloudWatch Logs resource
            // policy; the API id is unique per account and Region, so stacks and instances never collide.
            const accessLogs = named(run, "notes-api-access-logs");
            const api = single(run, "aws:apigatewayv2/api:Api");
            assert.equal(accessLogs.inputs.name, `/aws/vendedlogs/apis/notes-api-${api.id}`);
            assert.match(accessLogs.inputs.name, /^[\w\-/.#]{1,512}$/, "a valid CloudWatch Logs name");
        });

        // Every expected route, and every route the component declares: one nobody expected fails by name.
        for (const routeKey of routeKeysToTest(NOTES_ROUTES.map((route) => `${route.method} ${route.path}`))) {
            describe(routeKey, () => {
                it("is served by its own arm64 Node.js 22 function from the esbuild bundle, via a payload 2.0 proxy integration", () => {
                    const route = expectedRoute(routeKey);
                    const fn = named(run, `notes-api-${route.handler}`);
                    assert.equal(fn.inputs.runtime, "nodejs22.x");
                    assert.deepEqual(fn.inputs.architectures, ["arm64"]);
                    assert.equal(fn.inputs.handler, "index.handler");
                    assert.deepEqual(Object.keys(fn.inputs.code.assets).sort(), [...route.packageFiles].sort());
                    assert.match(fn.inputs.code.assets["index.js"].text, /handler/);
                    assert.equal(fn.inputs.memorySize, stackSetting(run, "lambdaMemorySize"));
                    assert.equal(fn.inputs.timeout, stackSetting(run, "lambdaTimeoutSeconds"));
                    assert.deepEqual(fn.inputs.environment.variables, {
                        TABLE_NAME: single(run, "aws:dynamodb/table:Table").state.name,
                        BUCKET_NAME: named(run, "notes-storage-uploads").state.bucket,
                    });
                    const logGroup = named(run, `notes-api-${route.handler}-logs`);
                    assert.equal(fn.inputs.loggingConfig.logGroup, logGroup.state.name);
                    // INFO keeps START and REPORT (with Init Duration), the production cold-start figure.
                    assert.deepEqual(fn.inputs.loggingConfig, { logFormat: "JSON", logGroup: logGroup.state.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" });
                    assert.equal(logGroup.inputs.retentionInDays, stackSetting(run, "logRetentionDays"));

                    const integration = named(run, `notes-api-${route.handler}-integration`);
                    assert.equal(integration.inputs.integrationType, "AWS_PROXY");
                    assert.equal(integration.inputs.integrationUri, fn.state.arn);
                    assert.equal(integration.inputs.payloadFormatVersion, "2.0");
                    const routeResource = named(run, `notes-api-${route.handler}-route`);
                    assert.equal(routeResource.inputs.routeKey, routeKey);
                    assert.equal(routeResource.inputs.target, `integrations/${integration.id}`);
                });

                it("may be invoked by API Gateway only from its own route", () => {
                    const route = expectedRoute(routeKey);
                    const permission = named(run, `notes-api-${route.handler}-invoke`);
                    const api = single(run, "aws:apigatewayv2/api:Api");
                    assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
                    assert.equal(permission.inputs.action, "lambda:InvokeFunction");
                    assert.equal(permission.inputs.function, named(run, `notes-api-${route.handler}`).state.name);
                    assert.equal(permission.inputs.sourceArn, `${api.state.executionArn}${route.arnSuffix}`);
                });

                it("runs as a role trusted only by Lambda, allowed only its own table actions and log group", () => {
                    const route = expectedRoute(routeKey);
                    const role = named(run, `notes-api-${route.handler}-role`);
                    assert.deepEqual(policyStatements(role.inputs.assumeRolePolicy), [
                        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
                    ]);
                    const policy = named(run, `notes-api-${route.handler}-policy`);
                    assert.equal(policy.inputs.role, role.id);
                    const table = single(run, "aws:dynamodb/table:Table");
                    const bucket = named(run, "notes-storage-uploads");
                    const logGroup = named(run, `notes-api-${route.handler}-logs`);
                    const expected = [
                        { Sid: "NotesTable", Effect: "Allow", Action: route.tableActions, Resource: table.state.arn },
                        {
                            Sid: "OwnLogGroup",
                            Effect: "Allow",
                            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                            Resource: `${logGroup.state.arn}:*`,
                        },
                    ];
                    if (route.bucket) {
                        expected.push({ Sid: route.bucket.sid, Effect: "Allow", Action: route.bucket.actions, Resource: `${bucket.state.arn}/${route.bucket.keys}` });
                    }
                    const statements = policyStatements(policy.inputs.policy).map((s) => ({ ...s, Action: asList(s.Action) }));
                    assert.deepEqual(statements, expected);
                    for (const statement of statements) {
                        assert.ok(!asList(statement.Resource).includes("*"), "no statement may name Resource *");
                        assert.ok(!statement.Action.some((action) => action.endsWith(":*") || action === "*"), "no wildcard actions");
                    }
                });
            });
        }

        it("gives every function a different role and log group", () => {
            const functions = ofType(run, "aws:lambda/function:Function");
            assert.deepEqual(functions.map((fn) => fn.name).sort(), [...Object.values(EXPECTED_ROUTES).map((route) => `notes-api-${route.handler}`), "notes-account"].sort());
            assert.equal(new Set(functions.map((fn) => fn.inputs.role)).size, functions.length);
            assert.equal(new Set(functions.map((fn) => fn.inputs.loggingConfig.logGroup)).size, functions.length);
            for (const route of Object.values(EXPECTED_ROUTES)) {
                assert.equal(named(run, `notes-api-${route.handler}`).inputs.role, named(run, `notes-api-${route.handler}-role`).state.arn);
            }
        });

        it("lets only DELETE /notes/{id} touch the bucket", () => {
            const functionPolicies = ofType(run, "aws:iam/rolePolicy:RolePolicy").filter((policy) => /^notes-api-.*-policy$/.test(policy.name));
            assert.equal(functionPolicies.length, Object.keys(EXPECTED_ROUTES).length);
            const withS3 = functionPolicies.filter((policy) =>
                policyStatements(policy.inputs.policy).some((s) => asList(s.Action).some((action) => action.startsWith("s3:"))),
            );
            assert.deepEqual(withS3.map((policy) => policy.name), ["notes-api-delete-policy"]);
        });
    });
}

describe("routeArnPattern", () => {
    it("names the API, method and path exactly and turns path parameters into *", () => {
        const base = "arn:aws:execute-api:eu-west-1:111122223333:abc123defg";
        assert.equal(routeArnPattern(base, { method: "GET", path: "/notes" }), `${base}/*/GET/notes`);
        assert.equal(routeArnPattern(base, { method: "PUT", path: "/notes/{id}" }), `${base}/*/PUT/notes/*`);
    });
});

describe("NotesApi access logs across stacks and instances", () => {
    it("never gives two instances of the component the same access log group", async () => {
        const fixture = await runFixtureProgram("renamed-components", "dev");
        const groups = ["blue-api", "green-api"].map((name) => named(fixture, `${name}-access-logs`));
        const apis = ["blue-api", "green-api"].map((name) => named(fixture, `${name}-http`));
        assert.deepEqual(groups.map((group) => group.inputs.name), [`/aws/vendedlogs/apis/blue-api-${apis[0].id}`, `/aws/vendedlogs/apis/green-api-${apis[1].id}`]);
        assert.notEqual(groups[0].inputs.name, groups[1].inputs.name);
    });

    it("never gives two stacks the same access log group", async () => {
        const [dev, prod] = await Promise.all([stackRun("dev"), stackRun("prod")]);
        const name = (run: ProgramRun) => named(run, "notes-api-access-logs").inputs.name;
        assert.notEqual(name(dev), name(prod));
        assert.ok([name(dev), name(prod)].every((group) => group.startsWith("/aws/vendedlogs/")));
    });
});
