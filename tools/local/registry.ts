import { FederationState } from "./cognito-idp/oauth/state";
import type { LocalFunction } from "./lambda/functions";

/** HTTP API CORS settings (`aws:apigatewayv2/api:Api` `corsConfiguration`). */
export interface ApiCors {
    allowOrigins?: string[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: number;
    allowCredentials?: boolean;
}

/** S3 CORS rule (`aws:s3/bucketCorsConfiguration:BucketCorsConfiguration` `corsRules[]`). */
export interface S3CorsRule {
    allowedHeaders?: string[];
    allowedMethods: string[];
    allowedOrigins: string[];
    exposeHeaders?: string[];
    maxAgeSeconds?: number;
}

export interface LocalRoute {
    routeKey: string;
    authorizationType: string;
    target?: string;
}

export interface LocalApi {
    id: string;
    name: string;
    cors?: ApiCors;
    routes: Map<string, LocalRoute>;
    /** Integration id -> function ARN (AWS_PROXY, payload 2.0). */
    integrations: Map<string, { functionArn: string; payloadFormatVersion: string; type: string }>;
    stages: Set<string>;
}

export interface LocalPermission {
    action: string;
    /** Function name or ARN, as the Permission names it. */
    functionRef: string;
    principal: string;
    sourceArn?: string;
}

export interface LocalRole {
    name: string;
    arn: string;
    assumeRolePolicy: string;
    /** `AROA…`: the role id API Gateway shows in `callerId`/`userId`. */
    uniqueId?: string;
}

/**
 * What the materializer built from the program's resources, read by the gateway, the S3 front
 * and the identity service at request time (so the order in which resources register does not
 * matter).
 */
export class LocalRegistry {
    readonly roles = new Map<string, LocalRole>();
    /** Role name -> inline policy documents by policy name. */
    readonly inlinePolicies = new Map<string, Map<string, string>>();
    /** Customer-managed policy ARN -> document. */
    readonly managedPolicies = new Map<string, string>();
    /** Role name -> attached managed policy ARNs. */
    readonly attachments = new Map<string, Set<string>>();
    readonly apis = new Map<string, LocalApi>();
    readonly functions = new Map<string, LocalFunction>();
    readonly permissions: LocalPermission[] = [];
    /** Bucket name -> bucket policy document. */
    readonly bucketPolicies = new Map<string, string>();
    readonly buckets = new Set<string>();
    /** Bucket name -> CORS rules. */
    readonly bucketCors = new Map<string, S3CorsRule[]>();
    /** App clients' OAuth settings, identity providers, pre sign-up triggers and provider links. */
    readonly federation = new FederationState();

    constructor(
        readonly region: string,
        readonly accountId: string,
    ) {}

    /** Resolves a role by name, id or ARN (RolePolicy's `role` is the role name). */
    role(ref: string): LocalRole | undefined {
        const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
        return this.roles.get(name);
    }

    /** Every identity policy document of a role: inline ones, then attached customer-managed ones. */
    policiesOf(roleArn: string): string[] {
        const role = this.role(roleArn);
        if (!role) return [];
        const inline = [...(this.inlinePolicies.get(role.name)?.values() ?? [])];
        const attached = [...(this.attachments.get(role.name) ?? [])]
            .map((arn) => this.managedPolicies.get(arn))
            .filter((doc): doc is string => doc !== undefined);
        return [...inline, ...attached];
    }

    /**
     * The origins the stack lets browsers use: every API's `corsConfiguration.allowOrigins` and
     * every bucket's CORS `allowedOrigins` (both fed by the `corsAllowedOrigins` stack setting).
     * Servers without CORS settings of their own (the identity service, the User Pools) answer
     * these and no others.
     */
    stackOrigins(): string[] {
        const origins = new Set<string>();
        for (const api of this.apis.values()) for (const origin of api.cors?.allowOrigins ?? []) origins.add(origin);
        for (const rules of this.bucketCors.values()) for (const rule of rules) for (const origin of rule.allowedOrigins) origins.add(origin);
        return [...origins];
    }

    functionByRef(ref: string): LocalFunction | undefined {
        for (const fn of this.functions.values()) {
            if (fn.definition.arn === ref || fn.definition.name === ref || ref.startsWith(`${fn.definition.arn}:`)) return fn;
        }
        return undefined;
    }

    /** True when a Permission lets API Gateway invoke the function for this source ARN. */
    apiMayInvoke(fn: LocalFunction, sourceArn: string): boolean {
        return this.permissions.some(
            (p) =>
                this.functionByRef(p.functionRef) === fn &&
                (p.action === "lambda:InvokeFunction" || p.action === "lambda:*") &&
                p.principal === "apigateway.amazonaws.com" &&
                (p.sourceArn === undefined || wildcardMatch(p.sourceArn, sourceArn)),
        );
    }
}

/** IAM/ARN-style glob: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string): boolean {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
    return regex.test(value);
}
