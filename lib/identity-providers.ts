/**
 * The sign-in providers a stack may configure (`identityProviders`), as Cognito names and maps
 * them. Plain data, no Pulumi: the program, the account-linking trigger, the local cloud and the
 * web client all read it from here.
 */

/** The setting's keys for the built-in social providers; OIDC providers are a list under `oidc`. */
export const SOCIAL_PROVIDER_KEYS = ["google", "facebook", "apple", "amazon"] as const;
export type SocialProviderKey = (typeof SOCIAL_PROVIDER_KEYS)[number];

/** Cognito's `ProviderType` values this program creates. */
export type ProviderType = "Google" | "Facebook" | "SignInWithApple" | "LoginWithAmazon" | "OIDC";

export interface ProviderKind {
    /** Cognito's provider type (and, for social providers, the provider's name in the pool). */
    type: ProviderType;
    /** Scopes Cognito asks the provider for (`authorize_scopes`). */
    authorizeScopes: string;
    /** User Pool attribute -> the provider's claim (`attributeMapping`); `username` is the provider's user id. */
    attributeMapping: Record<string, string>;
    /**
     * Whether a federated sign-in may be linked to an existing user with the same email. Only
     * providers that assert `email_verified` do, and only when they assert it true
     * (docs/threat-model.md, "One person, one account").
     */
    linksOnVerifiedEmail: boolean;
}

/**
 * Per provider type. Claim names: Google's and Apple's ID tokens and OIDC's standard claims carry
 * `email`, `email_verified`, `name`, `sub`; Facebook's Graph API gives `id`, `email`, `name` and no
 * verification flag; Login with Amazon gives `user_id`, `email`, `name` and no verification flag.
 */
export const PROVIDER_KINDS: Record<ProviderType, ProviderKind> = {
    Google: {
        type: "Google",
        authorizeScopes: "openid email profile",
        attributeMapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
        linksOnVerifiedEmail: true,
    },
    Facebook: {
        type: "Facebook",
        authorizeScopes: "public_profile,email",
        attributeMapping: { email: "email", name: "name", username: "id" },
        linksOnVerifiedEmail: false,
    },
    SignInWithApple: {
        type: "SignInWithApple",
        authorizeScopes: "email name",
        attributeMapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
        linksOnVerifiedEmail: true,
    },
    LoginWithAmazon: {
        type: "LoginWithAmazon",
        authorizeScopes: "profile",
        attributeMapping: { email: "email", name: "name", username: "user_id" },
        linksOnVerifiedEmail: false,
    },
    OIDC: {
        type: "OIDC",
        authorizeScopes: "openid email profile",
        attributeMapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
        linksOnVerifiedEmail: true,
    },
};

const SOCIAL_TYPES: Record<SocialProviderKey, ProviderType> = {
    google: "Google",
    facebook: "Facebook",
    apple: "SignInWithApple",
    amazon: "LoginWithAmazon",
};

/** Google's, Facebook's, Amazon's or an OIDC provider's OAuth client: `clientId` is plain config. */
export interface OAuthClientSettings {
    clientId: string;
}

/** Sign in with Apple: the Services ID, the team and the key that signs the client secret (the key itself is a secret). */
export interface AppleSettings extends OAuthClientSettings {
    teamId: string;
    keyId: string;
}

export interface OidcSettings extends OAuthClientSettings {
    /** The provider's name in the User Pool and on the button (3-32 letters, digits, `.` or `-`). */
    name: string;
    /** The issuer URL (`https://…`); Cognito reads `<issuer>/.well-known/openid-configuration`. */
    issuer: string;
}

/** The `identityProviders` setting. */
export interface IdentityProvidersSetting {
    google?: OAuthClientSettings;
    facebook?: OAuthClientSettings;
    apple?: AppleSettings;
    amazon?: OAuthClientSettings;
    oidc?: OidcSettings[];
}

/** One configured provider, resolved. */
export interface ConfiguredProvider {
    /** The key of its secret in `identityProviderSecrets` (`google`, …, or the OIDC entry's `name`). */
    secretKey: string;
    /** Its name in the User Pool: `supportedIdentityProviders`, usernames `<name>_<id>`, Amplify's `provider`. */
    providerName: string;
    kind: ProviderKind;
    clientId: string;
    /** Provider details other than the client id and the secret (Apple's team and key ids, OIDC's issuer). */
    details: Record<string, string>;
}

/** The configured providers in a fixed order: google, facebook, apple, amazon, then the OIDC list. */
export function configuredProviders(setting: IdentityProvidersSetting | undefined): ConfiguredProvider[] {
    if (!setting) return [];
    const providers: ConfiguredProvider[] = [];
    for (const key of SOCIAL_PROVIDER_KEYS) {
        const entry = setting[key];
        if (!entry) continue;
        const kind = PROVIDER_KINDS[SOCIAL_TYPES[key]];
        const details: Record<string, string> = key === "apple" ? { team_id: setting.apple!.teamId, key_id: setting.apple!.keyId } : {};
        providers.push({ secretKey: key, providerName: kind.type, kind, clientId: entry.clientId, details });
    }
    for (const entry of setting.oidc ?? []) {
        providers.push({
            secretKey: entry.name,
            providerName: entry.name,
            kind: PROVIDER_KINDS.OIDC,
            clientId: entry.clientId,
            details: { oidc_issuer: entry.issuer, attributes_request_method: "GET" },
        });
    }
    return providers;
}

/** The provider-details key that holds each type's secret. */
export function secretDetailKey(type: ProviderType): string {
    return type === "SignInWithApple" ? "private_key" : "client_secret";
}

/** Names Cognito uses itself, which an OIDC provider must not take. */
export const RESERVED_PROVIDER_NAMES = ["COGNITO", "Google", "Facebook", "SignInWithApple", "LoginWithAmazon"];

/** The OAuth scopes of the app client: sign-in, the email and name, and the user's own profile calls. */
export const OAUTH_SCOPES = ["openid", "email", "profile", "aws.cognito.signin.user.admin"];

/**
 * The callback and sign-out URLs of the app client, from the origins the app is served from
 * (`corsAllowedOrigins`, and the hosted site's origin when there is one). Amplify sends the entry
 * whose origin and path match the page, so each origin's root is listed once.
 */
export function appRedirectUrls(origins: readonly string[]): string[] {
    return [...new Set(origins.map((origin) => `${new URL(origin).origin}/`))];
}

/** The managed-login host of a prefix domain (`<prefix>.auth.<region>.amazoncognito.com`). */
export function prefixDomainHost(prefix: string, region: string): string {
    return `${prefix}.auth.${region}.amazoncognito.com`;
}
