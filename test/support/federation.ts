/** A stack with every kind of sign-in provider, as the mock-engine tests configure it. */
export const PROVIDERS = {
    google: { clientId: "1234-abc.apps.googleusercontent.com" },
    facebook: { clientId: "987654321012345" },
    apple: { clientId: "com.example.notes.signin", teamId: "ABCDE12345", keyId: "KEY1234567" },
    amazon: { clientId: "amzn1.application-oa2-client.0123abcd" },
    oidc: [{ name: "Corp", issuer: "https://login.corp.example.com", clientId: "notes-web" }],
};

export const SECRETS = {
    google: "GOCSPX-google-secret-value",
    facebook: "facebook-app-secret-value",
    apple: "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg-apple-key\n-----END PRIVATE KEY-----",
    amazon: "amazon-client-secret-value",
    Corp: "corp-client-secret-value",
};

/** Config overrides for `stackRun`: the providers, their secrets and a domain prefix. */
export function federationOverrides(extra: Record<string, string> = {}): Record<string, string> {
    return {
        "notes-infra:identityProviders": JSON.stringify(PROVIDERS),
        "notes-infra:identityProviderSecrets": JSON.stringify(SECRETS),
        "notes-infra:authDomainPrefix": "notes-login-test",
        ...extra,
    };
}

/** The keys `pulumi config set --secret` marks secret. */
export const SECRET_KEYS = ["notes-infra:identityProviderSecrets"];
