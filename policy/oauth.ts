import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, Setting } from "./define";
import { items, quote } from "./util";

export const TYPES = {
    userPoolClient: ["aws:cognito/userPoolClient:UserPoolClient"],
} as const;

export const noImplicitFlow: ResourceValidationPolicy = resourcePolicy({
    name: "cognito-client-no-implicit-flow",
    description: "Checks that no Cognito User Pool client allows the implicit OAuth flow, which returns tokens in the redirect URL.",
    types: TYPES.userPoolClient,
    validate: (props, ctx) => {
        const flows = items<string>(props.allowedOauthFlows);
        if (!flows.some((flow) => String(flow).toLowerCase() === "implicit")) return;
        ctx.report(
            `User Pool client ${ctx.name} must not allow the implicit OAuth flow (tokens in the URL, where history, logs and referrers keep them), found allowedOauthFlows ${quote(flows)}; use "code" (with PKCE).`,
        );
    },
});

/**
 * Cognito's rule for redirect URIs: "Amazon Cognito requires HTTPS over HTTP except for
 * http://localhost for testing purposes only." Only the host name `localhost` counts, on any port.
 */
export function callbackUrlProblem(value: unknown): string | undefined {
    if (typeof value !== "string") return `${quote(value)} is not a URL`;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `${quote(value)} is not an absolute URL`;
    }
    if (url.protocol === "https:") return undefined;
    if (url.protocol === "http:" && url.hostname === "localhost") return undefined;
    return `${quote(value)} is not https (only http://localhost may be plain http)`;
}

export const httpsCallbacks: ResourceValidationPolicy = resourcePolicy({
    name: "cognito-client-https-callbacks",
    description: "Checks that every callback, sign-out and default redirect URL of a Cognito User Pool client is https, except http://localhost.",
    types: TYPES.userPoolClient,
    validate: (props, ctx) => {
        for (const field of ["callbackUrls", "logoutUrls", "defaultRedirectUri"] as const) {
            ctx.check(field, () => {
                for (const url of items(props[field])) {
                    const problem = callbackUrlProblem(url);
                    if (problem) ctx.report(`User Pool client ${ctx.name} must send users back over https: ${field} ${problem}.`);
                }
            });
        }
    },
});

interface ScopesConfig {
    /** The scopes a client with OAuth flows may allow. */
    neededScopes: string[];
}

const scopeSettings: Record<keyof ScopesConfig, Setting> = {
    neededScopes: {
        type: "array",
        items: { type: "string" },
        default: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
        description: "The OAuth scopes an app client needs (sign-in, email, name, the user's own profile calls); any other scope a client with OAuth flows allows is reported.",
    },
};

export const neededScopesOnly: ResourceValidationPolicy = resourcePolicy<ScopesConfig>({
    name: "cognito-client-needed-scopes-only",
    description: "Checks that a Cognito User Pool client with OAuth flows allows only the scopes the app needs.",
    enforcementLevel: "advisory",
    settings: scopeSettings,
    types: TYPES.userPoolClient,
    validate: (props, ctx) => {
        if (items(props.allowedOauthFlows).length === 0) return;
        const needed = new Set(ctx.config.neededScopes);
        const extra = items<string>(props.allowedOauthScopes).filter((scope) => !needed.has(scope));
        if (extra.length === 0) return;
        ctx.report(
            `User Pool client ${ctx.name} allows OAuth scopes it does not need: ${extra.join(", ")}; allow only ${[...needed].join(", ")} (or list more in neededScopes).`,
        );
    },
});

export const oauthPolicies: ResourceValidationPolicy[] = [noImplicitFlow, httpsCallbacks, neededScopesOnly];
