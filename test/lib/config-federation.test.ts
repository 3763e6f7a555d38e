import { strict as assert } from "node:assert";
import { ConfigError, parseConfig } from "../../lib/config";
import { readStackConfig } from "../../tools/engine/program";
import { PROVIDERS, SECRETS } from "../support/federation";

/** The dev stack's settings, decoded, without the project prefix. */
function dev(): Record<string, unknown> {
    const { project, config } = readStackConfig("dev");
    return Object.fromEntries(
        Object.entries(config)
            .filter(([key]) => key.startsWith(`${project}:`))
            .map(([key, value]) => {
                try {
                    return [key.slice(project.length + 1), JSON.parse(value)];
                } catch {
                    return [key.slice(project.length + 1), value];
                }
            }),
    );
}

const secret = { isSecret: (key: string) => key === "identityProviderSecrets" };
const federated = (change: Record<string, unknown> = {}) => ({
    ...dev(),
    identityProviders: PROVIDERS,
    identityProviderSecrets: SECRETS,
    authDomainPrefix: "notes-login",
    ...change,
});

function rejects(raw: Record<string, unknown>, message: RegExp, context: object = secret): void {
    assert.throws(() => parseConfig(raw, "notes-infra", context), (error: Error) => {
        assert.ok(error instanceof ConfigError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        for (const value of Object.values(SECRETS)) assert.ok(!error.message.includes(value), "a secret was printed");
        return true;
    });
}

describe("sign-in provider settings", () => {
    it("accepts every provider with its secret, a domain prefix, and the secrets passed as a secret", () => {
        const config = parseConfig(federated(), "notes-infra", secret);
        assert.deepEqual(config.identityProviders, PROVIDERS);
        assert.equal(config.authDomainPrefix, "notes-login");
    });

    it("refuses provider secrets that Pulumi did not pass as a secret, naming the key", () => {
        rejects(federated(), /notes-infra:identityProviderSecrets must be a Pulumi secret, never plain text/, {});
        rejects(federated(), /pulumi config set --secret --path identityProviderSecrets/, { isSecret: () => false });
    });

    const prefixes: [string, RegExp][] = [
        ["aws-notes", /notes-infra:authDomainPrefix must be 1 to 63 lowercase letters.*without aws, amazon, cognito/],
        ["myamazon", /notes-infra:authDomainPrefix/],
        ["notes-cognito", /notes-infra:authDomainPrefix/],
        ["Notes", /notes-infra:authDomainPrefix/],
        ["-notes", /notes-infra:authDomainPrefix/],
        ["notes-", /notes-infra:authDomainPrefix/],
        ["notes.login", /notes-infra:authDomainPrefix/],
        ["a".repeat(64), /notes-infra:authDomainPrefix/],
    ];
    for (const [prefix, message] of prefixes) {
        it(`rejects the domain prefix ${JSON.stringify(prefix)}`, () => rejects(federated({ authDomainPrefix: prefix }), message));
    }

    it("requires a managed-login domain once a provider is configured", () => {
        rejects(federated({ authDomainPrefix: "" }), /notes-infra:authDomainPrefix is required when identityProviders is set/);
    });

    it("requires each provider's secret and refuses secrets of providers not configured", () => {
        const { google: _google, Corp: _corp, ...rest } = SECRETS;
        rejects(federated({ identityProviderSecrets: rest }), /identityProviderSecrets needs google: its client secret/);
        rejects(federated({ identityProviderSecrets: rest }), /identityProviderSecrets needs Corp/);
        const { apple: _apple, ...noApple } = SECRETS;
        rejects(federated({ identityProviderSecrets: noApple }), /identityProviderSecrets needs apple: Apple's private key/);
        rejects(federated({ identityProviderSecrets: { ...SECRETS, github: "x" } }), /identityProviderSecrets has github, but identityProviders configures no such provider/);
        rejects({ ...dev(), identityProviderSecrets: { google: "x" } }, /identityProviderSecrets has google, but identityProviders configures no such provider/);
    });

    it("rejects malformed providers, naming the key", () => {
        rejects(federated({ identityProviders: { github: { clientId: "x" } } }), /notes-infra:identityProviders has no setting github/);
        rejects(federated({ identityProviders: { google: { clientId: "has space" } } }), /notes-infra:identityProviders \(item google.clientId\) must be the provider's client id/);
        rejects(federated({ identityProviders: { ...PROVIDERS, apple: { ...PROVIDERS.apple, teamId: "short" } } }), /item apple.teamId\) must be a 10-character Apple id/);
        rejects(federated({ identityProviders: { oidc: [{ name: "Corp", issuer: "http://login.corp.example.com", clientId: "x" }] } }), /item oidc.0.issuer\) must be the provider's https issuer URL/);
        rejects(federated({ identityProviders: { oidc: [{ name: "Google", issuer: "https://accounts.google.com", clientId: "x" }] } }), /item oidc.0.name\) must not be one of Cognito's own provider names/);
        rejects(federated({ identityProviders: { oidc: [{ name: "my_idp", issuer: "https://idp.example.com", clientId: "x" }] } }), /item oidc.0.name\) must be 3 to 32 letters/);
        const twice = [
            { name: "Corp", issuer: "https://a.example.com", clientId: "x" },
            { name: "corp", issuer: "https://b.example.com", clientId: "y" },
        ];
        rejects(federated({ identityProviders: { oidc: twice }, identityProviderSecrets: { Corp: "a", corp: "b" } }), /item oidc\) must not name a provider twice/);
    });

    it("takes a custom domain only with its us-east-1 certificate", () => {
        rejects(federated({ authCustomDomain: "login.notes.example.com" }), /authCustomDomainCertificateArn and authCustomDomain\/authCustomDomainCertificateArn go together/);
        rejects(
            federated({ authCustomDomain: "login.notes.example.com", authCustomDomainCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789" }),
            /notes-infra:authCustomDomainCertificateArn must be the ARN of an ACM certificate in us-east-1/,
        );
        const config = parseConfig(
            federated({ authDomainPrefix: "", authCustomDomain: "login.notes.example.com", authCustomDomainCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789" }),
            "notes-infra",
            secret,
        );
        assert.equal(config.authCustomDomain, "login.notes.example.com");
    });
});
