import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalCloudWatch } from "../cloudwatch/alarms";
import { decide } from "../iam/decide";
import { FunctionError } from "../lambda/functions";
import { ApiCors, LocalApi, LocalRegistry, LocalRoute } from "../registry";
import { decodeComponent, isLoopbackHost, LocalServer, readRequest, ReceivedRequest, receive } from "../server";
import { CredentialStore, SessionCredentials } from "../sts/credentials";
import { SIGNATURE_ERROR_TYPES, verifySigV4, VerifyFailure } from "../sts/sigv4";
import { iamAuthorizer, payloadEvent } from "./event";

/** HTTP APIs' payload limit (10 MB). */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** API Gateway's 403 bodies for each way a SigV4 request can fail. */
const FORBIDDEN_MESSAGES: Record<VerifyFailure, (detail: string) => string> = {
    MissingAuthentication: () => "Forbidden",
    IncompleteSignature: (detail) => detail,
    InvalidAccessKey: () => "The security token included in the request is invalid.",
    InvalidToken: () => "The security token included in the request is invalid.",
    ExpiredToken: () => "The security token included in the request is expired",
    SignatureExpired: (detail) => detail,
    WrongScope: (detail) => detail,
    ContentHashMismatch: () => SIGNATURE_MISMATCH,
    UnsupportedPayload: () => SIGNATURE_MISMATCH,
    InvalidPayloadHash: () => SIGNATURE_MISMATCH,
    SignatureDoesNotMatch: () => SIGNATURE_MISMATCH,
};
const SIGNATURE_MISMATCH =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export interface GatewayOptions {
    api: LocalApi;
    registry: LocalRegistry;
    store: CredentialStore;
    /** Structured log line sink (default: stdout). */
    log?: (line: Record<string, unknown>) => void;
    /** Keep the duration of each signature check + IAM decision in `timings` (for `tools/bench/gateway-overhead.ts`). */
    recordTimings?: boolean;
    /** Where the API's metrics go (`AWS/ApiGateway`, `ApiId` and `Stage`). */
    cloudwatch?: LocalCloudWatch;
}

/** One gateway decision, for the overhead measurement (`tools/bench/gateway-overhead.ts`). */
export interface GatewayTiming {
    authMs: number;
}

interface MatchedRoute {
    route: LocalRoute;
    pathParameters?: Record<string, string>;
}

/** `GET /notes/{id}` matched against a method and a decoded path. */
function matchRoute(api: LocalApi, method: string, path: string): MatchedRoute | undefined {
    let fallback: MatchedRoute | undefined;
    const segments = path.split("/").filter(Boolean);
    for (const route of api.routes.values()) {
        if (route.routeKey === "$default") {
            fallback = { route };
            continue;
        }
        const [routeMethod, routePath] = route.routeKey.split(" ");
        if (routeMethod !== "ANY" && routeMethod !== method) continue;
        const parts = routePath.split("/").filter(Boolean);
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < parts.length; i++) {
            const greedy = /^\{(.+)\+\}$/.exec(parts[i]);
            if (greedy) {
                if (i >= segments.length) ok = false;
                else params[greedy[1]] = segments.slice(i).join("/");
                break;
            }
            if (i >= segments.length) {
                ok = false;
                break;
            }
            const param = /^\{(.+)\}$/.exec(parts[i]);
            if (param) params[param[1]] = segments[i];
            else if (parts[i] !== segments[i]) ok = false;
            if (!ok) break;
        }
        if (ok && !parts.some((p) => p.endsWith("+}")) && parts.length !== segments.length) ok = false;
        if (ok) return { route, pathParameters: Object.keys(params).length ? params : undefined };
    }
    return fallback;
}

function originAllowed(cors: ApiCors | undefined, origin: string | undefined): boolean {
    if (!cors || !origin) return false;
    return (cors.allowOrigins ?? []).some((allowed) => allowed === "*" || allowed.toLowerCase() === origin.toLowerCase());
}

/** CORS headers HTTP APIs add to every response for an allowed origin (gateway errors too). */
function corsResponseHeaders(cors: ApiCors | undefined, origin: string | undefined): Record<string, string> {
    if (!originAllowed(cors, origin)) return {};
    const headers: Record<string, string> = { "access-control-allow-origin": cors!.allowOrigins!.includes("*") ? "*" : origin!, vary: "origin" };
    if (cors!.exposeHeaders?.length) headers["access-control-expose-headers"] = cors!.exposeHeaders.join(",");
    if (cors!.allowCredentials) headers["access-control-allow-credentials"] = "true";
    return headers;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/**
 * A local HTTP API (payload 2.0) in front of the program's routes: CORS preflight from the API's
 * corsConfiguration; SigV4 verification and the `execute-api:Invoke` decision against the
 * caller role's policies for AWS_IAM routes, both before any function runs; then the route's
 * function with a payload-2.0 event.
 */
export class LocalGateway extends LocalServer {
    readonly timings: GatewayTiming[] = [];

    constructor(private readonly options: GatewayOptions) {
        super(options.log);
    }

    protected internalError(res: ServerResponse, error: unknown): void {
        this.log({ level: "error", source: "gateway", message: String((error as Error)?.stack ?? error) });
        this.send(res, 500, { message: "Internal Server Error" });
    }

    private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, requestId?: string): void {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/json",
            ...(requestId ? { "apigw-requestid": requestId } : {}),
            ...headers,
            "content-length": String(Buffer.byteLength(text)),
        });
        res.end(text);
    }

    /**
     * Meters every request as HTTP APIs do: `Count`, `4xx`, `5xx` (0 or 1 each) and `Latency` when
     * the answer is sent, `IntegrationLatency` for requests that reached the function.
     */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const cloudwatch = this.options.cloudwatch;
        if (!cloudwatch) return this.serve(req, res);
        const started = Date.now();
        const dimensions = { ApiId: this.options.api.id, Stage: "$default" };
        const metered = { integrationMs: undefined as number | undefined };
        res.once("finish", () => {
            const status = res.statusCode;
            cloudwatch.put("AWS/ApiGateway", "Count", dimensions, 1);
            cloudwatch.put("AWS/ApiGateway", "4xx", dimensions, status >= 400 && status < 500 ? 1 : 0);
            cloudwatch.put("AWS/ApiGateway", "5xx", dimensions, status >= 500 ? 1 : 0);
            cloudwatch.put("AWS/ApiGateway", "Latency", dimensions, Date.now() - started);
            if (metered.integrationMs !== undefined) cloudwatch.put("AWS/ApiGateway", "IntegrationLatency", dimensions, metered.integrationMs);
        });
        return this.serve(req, res, metered);
    }

    private async serve(req: IncomingMessage, res: ServerResponse, metered: { integrationMs?: number } = {}): Promise<void> {
        const { api } = this.options;
        const requestId = randomBytes(10).toString("base64").replace(/[+/=]/g, "A");
        // DNS rebinding: a page re-pointed at 127.0.0.1 still sends its own host name.
        if (!isLoopbackHost(req.headers.host)) {
            req.resume();
            this.log({ level: "info", source: "gateway", requestId, status: 403, reason: "host", host: req.headers.host });
            this.send(res, 403, { message: "Forbidden" }, {}, requestId);
            return;
        }
        const received = await receive(
            res,
            async () => {
                const request = await readRequest(req, { maxBodyBytes: MAX_PAYLOAD_BYTES });
                return { request, decodedPath: decodeComponent(request.path) };
            },
            (error) => {
                const cors = corsResponseHeaders(api.cors, req.headers.origin);
                if (error.status === 413) this.send(res, 413, { message: "Request Entity Too Large" }, cors, requestId);
                else this.send(res, 400, { message: "Bad Request" }, cors, requestId);
            },
        );
        if (!received) return;
        const { request, decodedPath } = received;
        const origin = request.headers.origin;
        const cors = corsResponseHeaders(api.cors, origin);

        // Preflight: answered by the API itself, unsigned (browsers sign nothing in a preflight).
        const preflightMethod = request.headers["access-control-request-method"];
        if (request.method === "OPTIONS" && preflightMethod && api.cors && !matchRoute(api, "OPTIONS", decodedPath)?.route.routeKey.startsWith("OPTIONS")) {
            const headers: Record<string, string> = {};
            const methods = (api.cors.allowMethods ?? []).map((m) => m.toUpperCase());
            if (originAllowed(api.cors, origin) && (methods.includes("*") || methods.includes(preflightMethod.toUpperCase()))) {
                Object.assign(headers, cors, {
                    "access-control-allow-methods": methods.join(","),
                    "access-control-allow-headers": (api.cors.allowHeaders ?? []).join(",") || (request.headers["access-control-request-headers"] ?? ""),
                });
                if (api.cors.maxAge !== undefined) headers["access-control-max-age"] = String(api.cors.maxAge);
            }
            res.writeHead(204, { ...headers, "apigw-requestid": requestId });
            res.end();
            return;
        }

        const matched = matchRoute(api, request.method, decodedPath);
        if (!matched) {
            this.send(res, 404, { message: "Not Found" }, cors, requestId);
            return;
        }
        const { route } = matched;
        const executeApiArn = `arn:aws:execute-api:${this.options.registry.region}:${this.options.registry.accountId}:${api.id}/$default/${request.method}${decodedPath}`;

        let session: SessionCredentials | undefined;
        if (route.authorizationType === "AWS_IAM") {
            const started = process.hrtime.bigint();
            const verified = await verifySigV4(request, { service: "execute-api", region: this.options.registry.region, store: this.options.store });
            if (!verified.ok) {
                this.log({ level: "info", source: "gateway", requestId, route: route.routeKey, status: 403, reason: verified.failure, detail: verified.detail });
                this.send(res, 403, { message: FORBIDDEN_MESSAGES[verified.failure](verified.detail) }, { ...cors, "x-amzn-errortype": SIGNATURE_ERROR_TYPES[verified.failure] }, requestId);
                return;
            }
            session = verified.session;
            const decision = await decide({
                policies: this.options.registry.policiesOf(session.roleArn),
                action: "execute-api:Invoke",
                resource: executeApiArn,
                principal: session.principalArn,
                accountId: this.options.registry.accountId,
                variables: session.identityId ? { "cognito-identity.amazonaws.com:sub": session.identityId } : {},
            });
            if (this.options.recordTimings) this.timings.push({ authMs: Number(process.hrtime.bigint() - started) / 1e6 });
            if (decision !== "Allow") {
                this.log({ level: "info", source: "gateway", requestId, route: route.routeKey, status: 403, reason: decision, resource: executeApiArn });
                const suffix = decision === "ExplicitDeny" ? " with an explicit deny" : "";
                this.send(res, 403, { message: `User: ${session.principalArn} is not authorized to perform: execute-api:Invoke on resource: ${executeApiArn}${suffix}` }, { ...cors, "x-amzn-errortype": "AccessDeniedException" }, requestId);
                return;
            }
        } else if (route.authorizationType !== "NONE") {
            this.log({ level: "error", source: "gateway", requestId, message: `authorization type ${route.authorizationType} is not emulated; refusing the request` });
            this.send(res, 500, { message: "Internal Server Error" }, cors, requestId);
            return;
        }

        const integrationId = route.target?.replace(/^integrations\//, "");
        const integration = integrationId ? api.integrations.get(integrationId) : undefined;
        const fn = integration ? this.options.registry.functionByRef(integration.functionArn) : undefined;
        const routePath = route.routeKey === "$default" ? "$default" : route.routeKey.split(" ")[1].slice(1);
        const sourceArn = `arn:aws:execute-api:${this.options.registry.region}:${this.options.registry.accountId}:${api.id}/$default/${route.routeKey.split(" ")[0]}/${routePath}`;
        if (!fn || !integration || integration.type !== "AWS_PROXY") {
            this.log({ level: "error", source: "gateway", requestId, route: route.routeKey, message: "route has no AWS_PROXY Lambda integration" });
            this.send(res, 500, { message: "Internal Server Error" }, cors, requestId);
            return;
        }
        if (!this.options.registry.apiMayInvoke(fn, sourceArn)) {
            this.log({ level: "error", source: "gateway", requestId, route: route.routeKey, message: `no lambda Permission lets apigateway.amazonaws.com invoke ${fn.definition.name} from ${sourceArn}` });
            this.send(res, 500, { message: "Internal Server Error" }, cors, requestId);
            return;
        }

        const event = this.buildEvent(request, matched, requestId, session);
        let result: unknown;
        const invoked = Date.now();
        try {
            result = await fn.invoke(event, requestId);
            metered.integrationMs = Date.now() - invoked;
        } catch (error) {
            metered.integrationMs = Date.now() - invoked;
            const message = error instanceof FunctionError ? error.message : String(error);
            this.log({ level: "error", source: "gateway", requestId, route: route.routeKey, function: fn.definition.name, message });
            // A function error or timeout (Lambda's limit is below the 30 s integration timeout).
            this.send(res, 500, { message: "Internal Server Error" }, cors, requestId);
            return;
        }
        // Lambda refuses a result over 6 MB (6,291,456 bytes) serialized: the invocation fails with
        // Function.ResponseSizeTooLarge (its message names 6291556 bytes) and HTTP API answers 500.
        const limitBytes = 6 * 1024 * 1024;
        const responseBytes = Buffer.byteLength(JSON.stringify(result ?? null), "utf8");
        if (responseBytes > limitBytes) {
            const message = "Response payload size exceeded maximum allowed payload size (6291556 bytes).";
            this.log({ level: "error", source: "gateway", requestId, route: route.routeKey, function: fn.definition.name, errorType: "Function.ResponseSizeTooLarge", message, responseBytes, limitBytes });
            this.send(res, 500, { message: "Internal Server Error" }, cors, requestId);
            return;
        }
        this.respond(res, result, cors, requestId);
    }

    private buildEvent(request: ReceivedRequest, matched: MatchedRoute, requestId: string, session?: SessionCredentials) {
        const { api, registry } = this.options;
        const query: Record<string, string> = {};
        for (const [key, value] of Object.entries(request.query)) query[key] = Array.isArray(value) ? value.join(",") : value;
        const textual = request.body.length === 0 || TEXT_TYPES.test(request.headers["content-type"] ?? "");
        const roleId = session ? (registry.role(session.roleArn)?.uniqueId ?? "AROALOCALROLE") : "";
        return payloadEvent(
            {
                method: request.method,
                routeKey: matched.route.routeKey,
                rawPath: decodeComponent(request.path),
                rawQueryString: new URLSearchParams(Object.entries(request.query).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]]))).toString(),
                headers: request.headers,
                queryStringParameters: Object.keys(query).length ? query : undefined,
                pathParameters: matched.pathParameters,
                body: request.body.length === 0 ? undefined : textual ? request.body.toString("utf8") : request.body.toString("base64"),
                isBase64Encoded: !textual,
            },
            { requestId, accountId: registry.accountId, apiId: api.id, authorizer: session ? { iam: iamAuthorizer(session, roleId) } : undefined },
        );
    }

    /** Maps a payload-2.0 function result to the HTTP response as API Gateway does. */
    private respond(res: ServerResponse, result: any, cors: Record<string, string>, requestId: string): void {
        if (result !== null && typeof result === "object" && "statusCode" in result) {
            const body: Buffer = result.body === undefined ? Buffer.alloc(0) : Buffer.from(String(result.body), result.isBase64Encoded ? "base64" : "utf8");
            const headers: Record<string, string | string[]> = { ...cors, "apigw-requestid": requestId };
            for (const [name, value] of Object.entries<any>(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
            if (Array.isArray(result.cookies) && result.cookies.length) headers["set-cookie"] = result.cookies;
            headers["content-length"] = String(body.length);
            res.writeHead(Number(result.statusCode), headers);
            res.end(body);
            return;
        }
        this.send(res, 200, typeof result === "string" ? result : JSON.stringify(result ?? null), cors, requestId);
    }
}
