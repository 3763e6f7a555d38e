import { strict as assert } from "node:assert";
import { functionUrlIamAuth, noQuickCreateApi, openApiIamAuth, restMethodIamAuth, routeIamAuth, webSocketConnectRoute } from "../../policy/api";
import { FakeStackResource, runResourcePolicy, runStackPolicy, UNKNOWN } from "../../policy/evaluate";

const METHOD = "aws:apigateway/method:Method";
const ROUTE = "aws:apigatewayv2/route:Route";
const REST_API = "aws:apigateway/restApi:RestApi";
const HTTP_API = "aws:apigatewayv2/api:Api";
const FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl";

const method = (change: Record<string, any> = {}) => ({ restApi: "abc123", resourceId: "res1", httpMethod: "GET", authorization: "AWS_IAM", ...change });
const route = (change: Record<string, any> = {}) => ({ apiId: "abc123", routeKey: "GET /notes", authorizationType: "AWS_IAM", target: "integrations/xyz", ...change });
const httpApi = (change: Record<string, any> = {}) => ({ name: "notes", protocolType: "HTTP", ...change });
const functionUrl = (change: Record<string, any> = {}) => ({ functionName: "notes-create", authorizationType: "AWS_IAM", ...change });

/** A Swagger 2 document whose every operation requires IAM, the way awsx classic writes it. */
function swagger(operations: Record<string, Record<string, any>> = {}): Record<string, any> {
    return {
        swagger: "2.0",
        info: { title: "notes", version: "1.0" },
        paths: {
            "/notes": {
                get: { "x-amazon-apigateway-auth": { type: "AWS_IAM" } },
                post: { "x-amazon-apigateway-auth": { type: "AWS_IAM" } },
                ...operations,
            },
        },
    };
}

/** An OpenAPI 3 document that uses a top-level awsSigv4 security requirement. */
function openApi3(change: (doc: Record<string, any>) => void = () => undefined): Record<string, any> {
    const doc: Record<string, any> = {
        openapi: "3.0.1",
        info: { title: "notes", version: "1.0" },
        security: [{ sigv4: [] }],
        components: { securitySchemes: { sigv4: { type: "apiKey", name: "Authorization", in: "header", "x-amazon-apigateway-authtype": "awsSigv4" } } },
        paths: { "/notes/{id}": { get: {}, delete: {} } },
    };
    change(doc);
    return doc;
}

describe("policy apigateway-method-iam-auth", () => {
    it("passes a REST method with AWS_IAM authorization", async () => {
        assert.deepEqual((await runResourcePolicy(restMethodIamAuth, METHOD, method())).reported, []);
    });

    it("flags a method without authorization and names it", async () => {
        const { reported } = await runResourcePolicy(restMethodIamAuth, METHOD, method({ authorization: "NONE" }), { name: "notes-get" });
        assert.deepEqual(reported.map((r) => r.message), ["REST API method GET (notes-get) must use AWS_IAM authorization, found NONE."]);
    });

    it("does not accept an API key as authentication", async () => {
        const { reported } = await runResourcePolicy(restMethodIamAuth, METHOD, method({ authorization: "NONE", apiKeyRequired: true }));
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /found NONE \(an API key identifies a client; it does not authenticate a caller\)/);
    });

    it("flags Cognito and custom authorizers, which are not IAM", async () => {
        for (const authorization of ["COGNITO_USER_POOLS", "CUSTOM"]) {
            const { reported } = await runResourcePolicy(restMethodIamAuth, METHOD, method({ authorization }));
            assert.match(reported[0].message, new RegExp(`found ${authorization}\\.$`));
        }
    });

    it("flags an unauthenticated OPTIONS method unless the exemption is configured", async () => {
        const options = method({ httpMethod: "OPTIONS", authorization: "NONE" });
        assert.equal((await runResourcePolicy(restMethodIamAuth, METHOD, options)).reported.length, 1);
        assert.deepEqual((await runResourcePolicy(restMethodIamAuth, METHOD, options, { config: { allowOptionsWithoutAuth: true } })).reported, []);
    });

    it("keeps GET methods under the rule when the OPTIONS exemption is on", async () => {
        const { reported } = await runResourcePolicy(restMethodIamAuth, METHOD, method({ authorization: "NONE" }), { config: { allowOptionsWithoutAuth: true } });
        assert.equal(reported.length, 1);
    });

    it("is not applicable to other resource types", async () => {
        assert.equal((await runResourcePolicy(restMethodIamAuth, ROUTE, route())).notApplicable, true);
    });

    it("reports an unknown authorization as advisory, and as a violation with failOnUnknown", async () => {
        const unknown = method({ authorization: UNKNOWN.string });
        const advisory = await runResourcePolicy(restMethodIamAuth, METHOD, unknown, { name: "m" });
        assert.equal(advisory.reported.length, 1);
        assert.equal(advisory.reported[0].enforcementLevel, "advisory");
        assert.match(advisory.reported[0].message, /Could not check the inputs of aws:apigateway\/method:Method m at preview: string value at \.authorization/);
        const closed = await runResourcePolicy(restMethodIamAuth, METHOD, unknown, { config: { failOnUnknown: true } });
        assert.equal(closed.reported.length, 1);
        assert.equal(closed.reported[0].enforcementLevel, undefined);
        assert.match(closed.reported[0].message, /fails closed/);
    });
});

describe("policy apigatewayv2-route-iam-auth", () => {
    it("passes an HTTP route with AWS_IAM", async () => {
        assert.deepEqual((await runResourcePolicy(routeIamAuth, ROUTE, route())).reported, []);
    });

    it("treats a missing authorizationType as NONE", async () => {
        const { reported } = await runResourcePolicy(routeIamAuth, ROUTE, route({ authorizationType: undefined }), { name: "notes-api-route-list" });
        assert.deepEqual(reported.map((r) => r.message), ["Route GET /notes (notes-api-route-list) must use AWS_IAM authorization, found NONE."]);
    });

    it("flags JWT and custom authorizers", async () => {
        for (const authorizationType of ["JWT", "CUSTOM"]) {
            const { reported } = await runResourcePolicy(routeIamAuth, ROUTE, route({ authorizationType }));
            assert.match(reported[0].message, new RegExp(`found ${authorizationType}\\.$`));
        }
    });

    it("holds $default, $connect and ANY routes to AWS_IAM", async () => {
        for (const routeKey of ["$default", "$connect", "ANY /{proxy+}"]) {
            const { reported } = await runResourcePolicy(routeIamAuth, ROUTE, route({ routeKey, authorizationType: "NONE" }));
            assert.equal(reported.length, 1, routeKey);
        }
    });

    it("leaves WebSocket $disconnect and action routes alone, which cannot carry authorization", async () => {
        for (const routeKey of ["$disconnect", "sendMessage"]) {
            assert.deepEqual((await runResourcePolicy(routeIamAuth, ROUTE, route({ routeKey, authorizationType: "NONE" }))).reported, []);
        }
    });

    it("exempts OPTIONS routes only when configured", async () => {
        const options = route({ routeKey: "OPTIONS /notes", authorizationType: "NONE" });
        assert.equal((await runResourcePolicy(routeIamAuth, ROUTE, options)).reported.length, 1);
        assert.deepEqual((await runResourcePolicy(routeIamAuth, ROUTE, options, { config: { allowOptionsWithoutAuth: true } })).reported, []);
    });
});

describe("policy apigatewayv2-api-no-quick-create", () => {
    it("passes an Api without target or routeKey", async () => {
        assert.deepEqual((await runResourcePolicy(noQuickCreateApi, HTTP_API, httpApi())).reported, []);
    });

    it("flags quick create through target", async () => {
        const { reported } = await runResourcePolicy(noQuickCreateApi, HTTP_API, httpApi({ target: "arn:aws:lambda:us-east-1:1:function:f" }), { name: "quick" });
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /^Api quick must not use quick create: target is set/);
    });

    it("flags quick create through routeKey", async () => {
        const { reported } = await runResourcePolicy(noQuickCreateApi, HTTP_API, httpApi({ routeKey: "$default" }));
        assert.match(reported[0].message, /routeKey is set \("\$default"\)/);
    });

    it("checks routeKey even when target is unknown at preview", async () => {
        const { reported } = await runResourcePolicy(noQuickCreateApi, HTTP_API, httpApi({ target: UNKNOWN.string, routeKey: "GET /x" }));
        assert.deepEqual(
            reported.map((r) => r.enforcementLevel ?? "policy"),
            ["advisory", "policy"],
        );
    });
});

describe("policy apigateway-openapi-iam-auth", () => {
    it("passes Swagger operations with x-amazon-apigateway-auth AWS_IAM (JSON text)", async () => {
        assert.deepEqual((await runResourcePolicy(openApiIamAuth, REST_API, { name: "r", body: JSON.stringify(swagger()) })).reported, []);
    });

    it("passes an OpenAPI 3 document whose top-level security names an awsSigv4 scheme (YAML text)", async () => {
        const { stringify } = await import("yaml");
        assert.deepEqual((await runResourcePolicy(openApiIamAuth, HTTP_API, { name: "h", body: stringify(openApi3()) })).reported, []);
    });

    it("passes an RestApi without a body", async () => {
        assert.deepEqual((await runResourcePolicy(openApiIamAuth, REST_API, { name: "r" })).reported, []);
    });

    it("flags an operation without any auth and names the operation and the API", async () => {
        const body = JSON.stringify(swagger({ delete: {} }));
        const { reported } = await runResourcePolicy(openApiIamAuth, REST_API, { body }, { name: "notes-rest" });
        assert.deepEqual(reported.map((r) => r.message), [
            "Operation DELETE /notes in the OpenAPI body of RestApi notes-rest must require AWS_IAM (x-amazon-apigateway-auth type AWS_IAM, or a security scheme with x-amazon-apigateway-authtype awsSigv4), found no security requirement.",
        ]);
    });

    it("flags x-amazon-apigateway-auth of another type and ANY methods", async () => {
        const body = JSON.stringify(swagger({ "x-amazon-apigateway-any-method": { "x-amazon-apigateway-auth": { type: "NONE" } } }));
        const { reported } = await runResourcePolicy(openApiIamAuth, REST_API, { body });
        assert.match(reported[0].message, /^Operation ANY \/notes .* found x-amazon-apigateway-auth type NONE\.$/);
    });

    it("flags an operation that overrides the top-level security with an empty list", async () => {
        const body = JSON.stringify(openApi3((doc) => (doc.paths["/notes/{id}"].get.security = [])));
        const { reported } = await runResourcePolicy(openApiIamAuth, HTTP_API, { body }, { name: "h" });
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /^Operation GET \/notes\/\{id\} in the OpenAPI body of Api h/);
    });

    it("flags an optional (empty) security alternative and a non-sigv4 scheme", async () => {
        const optional = JSON.stringify(openApi3((doc) => (doc.security = [{ sigv4: [] }, {}])));
        assert.match((await runResourcePolicy(openApiIamAuth, HTTP_API, { body: optional })).reported[0].message, /anonymous access allowed/);
        const apiKey = JSON.stringify(
            openApi3((doc) => {
                doc.components.securitySchemes.key = { type: "apiKey", name: "x-api-key", in: "header" };
                doc.security = [{ key: [] }];
            }),
        );
        assert.match((await runResourcePolicy(openApiIamAuth, HTTP_API, { body: apiKey })).reported[0].message, /found security key without an awsSigv4 scheme/);
    });

    it("flags a body that cannot be parsed", async () => {
        const { reported } = await runResourcePolicy(openApiIamAuth, REST_API, { body: "{ not: [valid" }, { name: "broken" });
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /^The OpenAPI body of RestApi broken must be parsable so its authorization can be checked; it is neither valid JSON nor valid YAML/);
    });

    it("flags a path item given as a $ref, whose operations it cannot see", async () => {
        const doc = swagger();
        doc.paths["/shared"] = { $ref: "#/x-shared/path" };
        const { reported } = await runResourcePolicy(openApiIamAuth, REST_API, { body: JSON.stringify(doc) }, { name: "r" });
        assert.deepEqual(reported.map((r) => r.message), [
            'Path /shared in the OpenAPI body of RestApi r must declare its operations inline so their authorization can be checked; found $ref "#/x-shared/path".',
        ]);
    });

    it("exempts OPTIONS operations only when configured", async () => {
        const body = JSON.stringify(swagger({ options: {} }));
        assert.equal((await runResourcePolicy(openApiIamAuth, REST_API, { body })).reported.length, 1);
        assert.deepEqual((await runResourcePolicy(openApiIamAuth, REST_API, { body }, { config: { allowOptionsWithoutAuth: true } })).reported, []);
    });

    it("reports an unknown body as not checkable at preview", async () => {
        const { reported } = await runResourcePolicy(openApiIamAuth, REST_API, { body: UNKNOWN.string });
        assert.equal(reported.length, 1);
        assert.equal(reported[0].enforcementLevel, "advisory");
        assert.match(reported[0].message, /\.body can't be known during preview/);
    });
});

describe("policy lambda-function-url-iam-auth", () => {
    it("passes a function URL with AWS_IAM", async () => {
        assert.deepEqual((await runResourcePolicy(functionUrlIamAuth, FUNCTION_URL, functionUrl())).reported, []);
    });

    it("flags a function URL with authorizationType NONE", async () => {
        const { reported } = await runResourcePolicy(functionUrlIamAuth, FUNCTION_URL, functionUrl({ authorizationType: "NONE" }), { name: "open-url" });
        assert.match(reported[0].message, /^Lambda function URL open-url must use authorizationType AWS_IAM, found NONE/);
    });
});

/**
 * WebSocket APIs: API Gateway authorizes a WebSocket connection on its `$connect` route (the API
 * Gateway Developer Guide's pages on controlling access to WebSocket APIs), and a `$connect` route
 * is optional, so without one a connection is made with nothing checked. Shapes from the
 * provider's apigatewayv2 examples.
 */
describe("policy apigatewayv2-websocket-connect-route", () => {
    const webSocket = (change: Record<string, any> = {}): FakeStackResource => ({ type: HTTP_API, name: "chat", props: { id: "ws0001", name: "chat", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action", ...change } });
    const connect = (change: Record<string, any> = {}, byDependency = true): FakeStackResource => ({
        type: ROUTE,
        name: "chat-connect",
        props: { apiId: "ws0001", routeKey: "$connect", authorizationType: "AWS_IAM", ...change },
        ...(byDependency ? { propertyDependencies: { apiId: ["chat"] } } : {}),
    });
    const message: FakeStackResource = { type: ROUTE, name: "chat-send", props: { apiId: "ws0001", routeKey: "sendMessage", authorizationType: "NONE" }, propertyDependencies: { apiId: ["chat"] } };

    it("passes a WebSocket API with a $connect route, found through its apiId dependency or by id", async () => {
        assert.deepEqual((await runStackPolicy(webSocketConnectRoute, [webSocket(), connect(), message])).reported, []);
        assert.deepEqual((await runStackPolicy(webSocketConnectRoute, [webSocket(), connect({}, false)])).reported, []);
    });

    it("flags a WebSocket API with action routes but no $connect route, and names it", async () => {
        const { reported } = await runStackPolicy(webSocketConnectRoute, [webSocket(), message]);
        assert.deepEqual(reported.map((r) => r.message), [
            "WebSocket API chat must have a $connect route with authorizationType AWS_IAM: without one, API Gateway accepts every connection unauthenticated, and no other WebSocket route can carry an authorizer.",
        ]);
        assert.equal(reported[0].urn, "urn:pulumi:test::test::aws:apigatewayv2/api:Api::chat");
    });

    it("does not count another API's $connect route", async () => {
        const other: FakeStackResource = { type: HTTP_API, name: "other", props: { id: "ws0002", protocolType: "WEBSOCKET" } };
        const otherConnect: FakeStackResource = { type: ROUTE, name: "other-connect", props: { apiId: "ws0002", routeKey: "$connect", authorizationType: "AWS_IAM" }, propertyDependencies: { apiId: ["other"] } };
        const { reported } = await runStackPolicy(webSocketConnectRoute, [webSocket(), other, otherConnect]);
        assert.deepEqual(reported.map((r) => r.urn), ["urn:pulumi:test::test::aws:apigatewayv2/api:Api::chat"]);
    });

    it("leaves HTTP APIs to the route rule", async () => {
        assert.deepEqual((await runStackPolicy(webSocketConnectRoute, [{ type: HTTP_API, name: "http", props: { id: "h1", protocolType: "HTTP" } }])).reported, []);
    });

    it("holds the $connect route itself to AWS_IAM through apigatewayv2-route-iam-auth", async () => {
        const { reported } = await runResourcePolicy(routeIamAuth, ROUTE, { apiId: "ws0001", routeKey: "$connect", authorizationType: "CUSTOM", authorizerId: "auth1" }, { name: "chat-connect" });
        assert.deepEqual(reported.map((r) => r.message), ["Route $connect (chat-connect) must use AWS_IAM authorization, found CUSTOM."]);
    });
});
