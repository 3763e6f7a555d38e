import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { resourcePolicy, Setting, stackPolicy } from "./define";
import { knownOrUndefined, quote } from "./util";

export const TYPES = {
    method: ["aws:apigateway/method:Method"],
    restApi: ["aws:apigateway/restApi:RestApi"],
    httpApi: ["aws:apigatewayv2/api:Api"],
    route: ["aws:apigatewayv2/route:Route"],
    functionUrl: ["aws:lambda/functionUrl:FunctionUrl"],
} as const;

interface OptionsExemptionConfig {
    /** Let unsigned CORS preflight (OPTIONS) operations through. */
    allowOptionsWithoutAuth: boolean;
}

const optionsExemption: Record<keyof OptionsExemptionConfig, Setting> = {
    allowOptionsWithoutAuth: {
        type: "boolean",
        default: false,
        description:
            "Exempt OPTIONS methods (CORS preflight, which browsers never sign) from the AWS_IAM requirement. Off unless configured: an OPTIONS method backed by an integration is a public door.",
    },
};

export const restMethodIamAuth: ResourceValidationPolicy = resourcePolicy<OptionsExemptionConfig>({
    name: "apigateway-method-iam-auth",
    description: "Checks that every API Gateway REST API method uses AWS_IAM authorization.",
    settings: optionsExemption,
    types: TYPES.method,
    validate: (props, ctx) => {
        const method = String(props.httpMethod ?? "?").toUpperCase();
        if (method === "OPTIONS" && ctx.config.allowOptionsWithoutAuth) return;
        const authorization = String(props.authorization ?? "NONE");
        if (authorization.toUpperCase() === "AWS_IAM") return;
        const apiKeyNote = props.apiKeyRequired === true ? " (an API key identifies a client; it does not authenticate a caller)" : "";
        ctx.report(`REST API method ${method} (${ctx.name}) must use AWS_IAM authorization, found ${authorization}${apiKeyNote}.`);
    },
});

/**
 * WebSocket APIs authorize the connection on `$connect`; their `$disconnect` and action routes
 * cannot carry an authorizer, so only HTTP routes (`METHOD /path`), `$default` and `$connect`
 * are held to AWS_IAM. A resource policy cannot see the Api's protocol, so `$default` is held to
 * it in both protocols.
 */
function routeNeedsAuth(routeKey: string): boolean {
    return routeKey === "$default" || routeKey === "$connect" || /^[A-Za-z]+ \//.test(routeKey);
}

export const routeIamAuth: ResourceValidationPolicy = resourcePolicy<OptionsExemptionConfig>({
    name: "apigatewayv2-route-iam-auth",
    description: "Checks that every API Gateway v2 (HTTP or WebSocket $connect/$default) route uses AWS_IAM authorization.",
    settings: optionsExemption,
    types: TYPES.route,
    validate: (props, ctx) => {
        const routeKey = String(props.routeKey ?? "");
        if (!routeNeedsAuth(routeKey)) return;
        if (routeKey.startsWith("OPTIONS ") && ctx.config.allowOptionsWithoutAuth) return;
        const authorization = String(props.authorizationType ?? "NONE");
        if (authorization.toUpperCase() === "AWS_IAM") return;
        ctx.report(`Route ${routeKey} (${ctx.name}) must use AWS_IAM authorization, found ${authorization}.`);
    },
});

export const noQuickCreateApi: ResourceValidationPolicy = resourcePolicy({
    name: "apigatewayv2-api-no-quick-create",
    description: "Checks that no API Gateway v2 Api uses quick create (target or routeKey), which adds an unauthenticated $default route.",
    types: TYPES.httpApi,
    validate: (props, ctx) => {
        for (const field of ["target", "routeKey"] as const) {
            ctx.check(field, () => {
                const value = props[field];
                if (value === undefined || value === null || value === "") return;
                ctx.report(
                    `Api ${ctx.name} must not use quick create: ${field} is set (${quote(value)}), which creates a $default route without authorization. Declare routes with authorizationType AWS_IAM instead.`,
                );
            });
        }
    },
});

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace", "x-amazon-apigateway-any-method"];

/** Parses an OpenAPI/Swagger body (JSON or YAML text, or an already-parsed object). */
export function parseOpenApi(body: unknown): { document?: Record<string, any>; error?: string } {
    if (body !== null && typeof body === "object" && !Array.isArray(body)) return { document: body as Record<string, any> };
    if (typeof body !== "string") return { error: `is neither text nor an object (found ${typeof body})` };
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        try {
            parsed = parseYaml(body);
        } catch (error) {
            return { error: `is neither valid JSON nor valid YAML (${(error as Error).message.split("\n")[0]})` };
        }
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { error: "is not an OpenAPI document (not an object)" };
    return { document: parsed as Record<string, any> };
}

function isSigv4Scheme(scheme: unknown): boolean {
    const authType = (scheme as Record<string, unknown> | undefined)?.["x-amazon-apigateway-authtype"];
    return typeof authType === "string" && authType.toLowerCase() === "awssigv4";
}

/**
 * What IAM-protects one operation: its own `x-amazon-apigateway-auth` wins; otherwise every
 * alternative of its `security` (or the document's) must name an awsSigv4 scheme, since any one
 * alternative admits the caller. Returns a description of what was found when it is not IAM.
 */
export function operationAuthProblem(operation: Record<string, any>, document: Record<string, any>): string | undefined {
    const extension = operation["x-amazon-apigateway-auth"];
    if (extension !== undefined) {
        const type = String(extension?.type ?? "");
        return type.toUpperCase() === "AWS_IAM" ? undefined : `x-amazon-apigateway-auth type ${type || "(empty)"}`;
    }
    const security = operation.security !== undefined ? operation.security : document.security;
    if (!Array.isArray(security) || security.length === 0) return "no security requirement";
    const schemes: Record<string, unknown> = document.securityDefinitions ?? document.components?.securitySchemes ?? {};
    for (const requirement of security) {
        const names = requirement !== null && typeof requirement === "object" ? Object.keys(requirement) : [];
        if (names.length === 0) return "an empty security requirement (anonymous access allowed)";
        if (!names.some((name) => isSigv4Scheme(schemes[name]))) return `security ${names.join(" + ")} without an awsSigv4 scheme`;
    }
    return undefined;
}

export const openApiIamAuth: ResourceValidationPolicy = resourcePolicy<OptionsExemptionConfig>({
    name: "apigateway-openapi-iam-auth",
    description: "Checks that every operation in an OpenAPI body of a REST API or HTTP API requires AWS_IAM authorization.",
    settings: optionsExemption,
    types: [...TYPES.restApi, ...TYPES.httpApi],
    validate: (props, ctx) => {
        const body = props.body;
        if (body === undefined || body === null || body === "") return;
        const kind = ctx.type === TYPES.restApi[0] ? "RestApi" : "Api";
        const { document, error } = parseOpenApi(body);
        if (!document) {
            ctx.report(`The OpenAPI body of ${kind} ${ctx.name} must be parsable so its authorization can be checked; it ${error}.`);
            return;
        }
        const paths = document.paths ?? {};
        for (const path of Object.keys(paths)) {
            const item = paths[path];
            if (item === null || typeof item !== "object") continue;
            if (item.$ref !== undefined) {
                ctx.report(`Path ${path} in the OpenAPI body of ${kind} ${ctx.name} must declare its operations inline so their authorization can be checked; found $ref ${quote(item.$ref)}.`);
                continue;
            }
            for (const key of HTTP_METHODS) {
                const operation = item[key];
                if (operation === undefined) continue;
                const method = key === "x-amazon-apigateway-any-method" ? "ANY" : key.toUpperCase();
                if (method === "OPTIONS" && ctx.config.allowOptionsWithoutAuth) continue;
                const problem = operation !== null && typeof operation === "object" ? operationAuthProblem(operation, document) : "an operation that is not an object";
                if (problem) {
                    ctx.report(
                        `Operation ${method} ${path} in the OpenAPI body of ${kind} ${ctx.name} must require AWS_IAM (x-amazon-apigateway-auth type AWS_IAM, or a security scheme with x-amazon-apigateway-authtype awsSigv4), found ${problem}.`,
                    );
                }
            }
        }
    },
});

export const functionUrlIamAuth: ResourceValidationPolicy = resourcePolicy({
    name: "lambda-function-url-iam-auth",
    description: "Checks that every Lambda function URL uses AWS_IAM authorization.",
    types: TYPES.functionUrl,
    validate: (props, ctx) => {
        const authorization = String(props.authorizationType ?? "NONE");
        if (authorization.toUpperCase() === "AWS_IAM") return;
        ctx.report(`Lambda function URL ${ctx.name} must use authorizationType AWS_IAM, found ${authorization}: a NONE URL lets anyone invoke the function.`);
    },
});

export const apiPolicies: ResourceValidationPolicy[] = [restMethodIamAuth, routeIamAuth, noQuickCreateApi, openApiIamAuth, functionUrlIamAuth];

// ---------------------------------------------------------------------------------------------
// WebSocket APIs: the connection is the door, and `$connect` is the only route that can hold it.

/** The Api a route belongs to: through its `apiId` input's dependency, else by id. */
function routeApi(route: PolicyResource, byUrn: Map<string, PolicyResource>, byId: Map<string, PolicyResource>): PolicyResource | undefined {
    const fromProperty = (route.propertyDependencies.apiId ?? []).find((dep) => TYPES.httpApi.includes(dep.type as (typeof TYPES.httpApi)[number]));
    if (fromProperty) return byUrn.get(fromProperty.urn);
    const id = knownOrUndefined(() => route.props.apiId);
    return typeof id === "string" ? byId.get(id) : undefined;
}

export const webSocketConnectRoute: StackValidationPolicy = stackPolicy({
    name: "apigatewayv2-websocket-connect-route",
    description: "Checks that every API Gateway WebSocket API has a $connect route, the one route where AWS_IAM can authorize its connections.",
    validate: (resources, ctx) => {
        const byUrn = new Map<string, PolicyResource>();
        const byId = new Map<string, PolicyResource>();
        const webSockets: PolicyResource[] = [];
        for (const resource of resources) {
            if (resource.type !== TYPES.httpApi[0]) continue;
            const protocol = ctx.check("protocolType", resource, () => String(resource.props.protocolType ?? "").toUpperCase());
            if (protocol !== "WEBSOCKET") continue;
            webSockets.push(resource);
            byUrn.set(resource.urn, resource);
            const id = knownOrUndefined(() => resource.props.id);
            if (typeof id === "string") byId.set(id, resource);
        }
        if (webSockets.length === 0) return;
        const connected = new Set<PolicyResource>();
        for (const resource of resources) {
            if (resource.type !== TYPES.route[0] || knownOrUndefined(() => resource.props.routeKey) !== "$connect") continue;
            const api = routeApi(resource, byUrn, byId);
            if (api) connected.add(api);
        }
        for (const api of webSockets) {
            if (connected.has(api)) continue;
            ctx.report(
                `WebSocket API ${api.name} must have a $connect route with authorizationType AWS_IAM: without one, API Gateway accepts every connection unauthenticated, and no other WebSocket route can carry an authorizer.`,
                api.urn,
            );
        }
    },
});
