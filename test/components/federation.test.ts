import { strict as assert } from "node:assert";
import { LINKING_HANDLER } from "../../components/federation";
import { bundleHandler } from "../../lib/bundle";
import { runProgramIsolated } from "../../tools/engine/program";
import { federationOverrides, PROVIDERS, SECRET_KEYS, SECRETS } from "../support/federation";
import { named, ofType, policyStatements, ProgramRun, RecordedResource, single, stackRun } from "../support/program";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A value with every Pulumi-secret part removed: what would be stored in clear. */
function withoutSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutSecrets);
    if (value === null || typeof value !== "object") return value;
    if (SECRET_SIG in value) return "[secret]";
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutSecrets(item)]));
}

/** The value of a secret input (the mocks keep the secret wrapper). */
function revealed(value: any): any {
    assert.ok(value !== null && typeof value === "object" && SECRET_SIG in value, "expected a secret");
    return value.value;
}

const federatedRun = (extra: Record<string, string> = {}) => runProgramIsolated("dev", federationOverrides(extra), undefined, SECRET_KEYS);

describe("NotesAuth with sign-in providers", () => {
    let run: ProgramRun;
    before(async () => {
        run = await federatedRun();
    });

    it("creates one identity provider per configured provider, each with its type, details and attribute mapping", () => {
        const providers = ofType(run, "aws:cognito/identityProvider:IdentityProvider");
        const pool = single(run, "aws:cognito/userPool:UserPool");
        const byName = Object.fromEntries(providers.map((provider) => [provider.inputs.providerName, provider]));
        assert.deepEqual(Object.keys(byName).sort(), ["Corp", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple"]);
        for (const provider of providers) assert.equal(provider.inputs.userPoolId, pool.id);
        const expected: Record<string, { type: string; details: Record<string, string>; mapping: Record<string, string> }> = {
            Google: {
                type: "Google",
                details: { client_id: "1234-abc.apps.googleusercontent.com", client_secret: SECRETS.google, authorize_scopes: "openid email profile" },
                mapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
            },
            Facebook: {
                type: "Facebook",
                details: { client_id: "987654321012345", client_secret: SECRETS.facebook, authorize_scopes: "public_profile,email" },
                mapping: { email: "email", name: "name", username: "id" },
            },
            SignInWithApple: {
                type: "SignInWithApple",
                details: { client_id: "com.example.notes.signin", team_id: "ABCDE12345", key_id: "KEY1234567", private_key: SECRETS.apple, authorize_scopes: "email name" },
                mapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
            },
            LoginWithAmazon: {
                type: "LoginWithAmazon",
                details: { client_id: "amzn1.application-oa2-client.0123abcd", client_secret: SECRETS.amazon, authorize_scopes: "profile" },
                mapping: { email: "email", name: "name", username: "user_id" },
            },
            Corp: {
                type: "OIDC",
                details: {
                    client_id: "notes-web",
                    client_secret: SECRETS.Corp,
                    authorize_scopes: "openid email profile",
                    oidc_issuer: "https://login.corp.example.com",
                    attributes_request_method: "GET",
                },
                mapping: { email: "email", email_verified: "email_verified", name: "name", username: "sub" },
            },
        };
        for (const [name, want] of Object.entries(expected)) {
            assert.equal(byName[name].inputs.providerType, want.type, name);
            assert.deepEqual(revealed(byName[name].inputs.providerDetails), want.details, name);
            assert.deepEqual(byName[name].inputs.attributeMapping, want.mapping, name);
        }
    });

    it("never puts a provider secret in plain text: not in any resource's inputs, not in the outputs", () => {
        const clear = JSON.stringify({ resources: run.resources.map((resource) => withoutSecrets(resource.inputs)), outputs: run.outputs });
        for (const [key, secret] of Object.entries(SECRETS)) assert.ok(!clear.includes(secret), `the ${key} secret appears in clear`);
        for (const provider of ofType(run, "aws:cognito/identityProvider:IdentityProvider")) {
            assert.deepEqual(provider.secretInputs, ["providerDetails"], provider.name);
        }
    });

    it("gives managed login its prefix domain on this pool", () => {
        const domain = single(run, "aws:cognito/userPoolDomain:UserPoolDomain");
        assert.equal(domain.inputs.domain, "notes-login-test");
        assert.equal(domain.inputs.userPoolId, single(run, "aws:cognito/userPool:UserPool").id);
        assert.equal(domain.inputs.certificateArn, undefined);
    });

    it("lets the app client use the authorization code flow only, with the four scopes and the app's origins as URLs", () => {
        const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
        assert.equal(client.inputs.allowedOauthFlowsUserPoolClient, true);
        assert.deepEqual(client.inputs.allowedOauthFlows, ["code"]);
        assert.deepEqual(client.inputs.allowedOauthScopes, ["openid", "email", "profile", "aws.cognito.signin.user.admin"]);
        // The corsAllowedOrigins, then the hosted site's own URL.
        const site = run.outputs.siteUrl as string;
        assert.match(site, /^https:\/\/d[a-z0-9]+\.cloudfront\.net\/$/);
        assert.deepEqual(client.inputs.callbackUrls, ["http://localhost:3000/", "http://localhost:5173/", site]);
        assert.deepEqual(client.inputs.logoutUrls, ["http://localhost:3000/", "http://localhost:5173/", site]);
        // Cognito writes the mapped attributes through the client at each federated sign-in.
        assert.deepEqual(client.inputs.readAttributes, ["email", "email_verified", "name"]);
        assert.deepEqual(client.inputs.writeAttributes, ["email", "email_verified", "name"]);
        assert.deepEqual(client.inputs.supportedIdentityProviders, ["COGNITO", "Google", "Facebook", "SignInWithApple", "LoginWithAmazon", "Corp"]);
        assert.equal(client.inputs.generateSecret, false);
        assert.deepEqual(client.inputs.explicitAuthFlows, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]);
    });

    it("runs the account-linking pre sign-up trigger with a role that may list and link users in this pool only", () => {
        const pool = single(run, "aws:cognito/userPool:UserPool");
        const fn = named(run, "notes-auth-link-accounts");
        assert.deepEqual(pool.inputs.lambdaConfig, { preSignUp: fn.state.arn });
        const role = named(run, "notes-auth-link-accounts-role");
        assert.equal(fn.inputs.role, role.state.arn);
        assert.deepEqual(policyStatements(role.inputs.assumeRolePolicy), [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
        const policy = named(run, "notes-auth-link-accounts-policy");
        assert.equal(policy.inputs.role, role.id);
        assert.deepEqual(policyStatements(policy.inputs.policy), [
            { Sid: "LinkInThisPool", Effect: "Allow", Action: ["cognito-idp:ListUsers", "cognito-idp:AdminLinkProviderForUser"], Resource: pool.state.arn },
            { Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${named(run, "notes-auth-link-accounts-logs").state.arn}:*` },
        ]);
        const permission = named(run, "notes-auth-link-accounts-invoke");
        assert.deepEqual(
            { action: permission.inputs.action, principal: permission.inputs.principal, sourceArn: permission.inputs.sourceArn, function: permission.inputs.function },
            { action: "lambda:InvokeFunction", principal: "cognito-idp.amazonaws.com", sourceArn: pool.state.arn, function: fn.state.name },
        );
        // The role appears in no other policy: no wider grant elsewhere.
        const others = ofType(run, "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((item) => item.inputs.role === role.id);
        assert.deepEqual(others.map((item: RecordedResource) => item.name), ["notes-auth-link-accounts-policy"]);
    });

    it("lets the trigger link only for providers that assert verified emails", () => {
        const fn = named(run, "notes-auth-link-accounts");
        assert.deepEqual(JSON.parse(fn.inputs.environment.variables.LINK_PROVIDERS), ["Google", "SignInWithApple", "Corp"]);
        assert.equal(fn.inputs.handler, "index.handler");
        assert.equal(fn.inputs.code.assets["index.js"].text, bundleHandler(LINKING_HANDLER).code);
    });

    it("exports exactly Amplify's loginWith.oauth plus the providers' names", () => {
        assert.deepEqual(run.outputs.oauth, {
            domain: "notes-login-test.auth.us-east-1.amazoncognito.com",
            scopes: ["openid", "email", "profile", "aws.cognito.signin.user.admin"],
            redirectSignIn: ["http://localhost:3000/", "http://localhost:5173/", run.outputs.siteUrl],
            redirectSignOut: ["http://localhost:3000/", "http://localhost:5173/", run.outputs.siteUrl],
            responseType: "code",
            providers: ["Google", "Facebook", "SignInWithApple", "LoginWithAmazon", "Corp"],
        });
    });
});

describe("NotesAuth sign-in providers, other settings", () => {
    it("serves managed login on a custom domain with its certificate, and names it in the oauth output", async () => {
        const certificate = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789";
        const run = await federatedRun({
            "notes-infra:authDomainPrefix": "",
            "notes-infra:authCustomDomain": "login.notes.example.com",
            "notes-infra:authCustomDomainCertificateArn": certificate,
            "notes-infra:corsAllowedOrigins": JSON.stringify(["https://notes.example.com"]),
        });
        const domain = single(run, "aws:cognito/userPoolDomain:UserPoolDomain");
        assert.deepEqual({ domain: domain.inputs.domain, certificateArn: domain.inputs.certificateArn }, { domain: "login.notes.example.com", certificateArn: certificate });
        const oauth = run.outputs.oauth as { domain: string; redirectSignIn: string[] };
        assert.equal(oauth.domain, "login.notes.example.com");
        assert.deepEqual(oauth.redirectSignIn, ["https://notes.example.com/", run.outputs.siteUrl]);
        assert.deepEqual(single(run, "aws:cognito/userPoolClient:UserPoolClient").inputs.callbackUrls, ["https://notes.example.com/", run.outputs.siteUrl]);
    });

    it("refuses provider secrets set in plain text, naming the key and never printing the value", async () => {
        await assert.rejects(runProgramIsolated("dev", federationOverrides()), (error: Error) => {
            assert.match(error.message, /notes-infra:identityProviderSecrets must be a Pulumi secret/);
            assert.match(error.message, /pulumi config set --secret --path identityProviderSecrets\.<provider>/);
            for (const secret of Object.values(SECRETS)) assert.ok(!error.message.includes(secret), "the secret was printed");
            return true;
        });
    });

    it("creates no provider, domain, trigger or OAuth setting when no provider is configured", async () => {
        const run = await stackRun("dev");
        assert.deepEqual(ofType(run, "aws:cognito/identityProvider:IdentityProvider", "aws:cognito/userPoolDomain:UserPoolDomain"), []);
        assert.equal(single(run, "aws:cognito/userPool:UserPool").inputs.lambdaConfig, undefined);
        const client = single(run, "aws:cognito/userPoolClient:UserPoolClient");
        assert.equal(client.inputs.allowedOauthFlows, undefined);
        assert.deepEqual(client.inputs.supportedIdentityProviders, ["COGNITO"]);
        assert.ok(!("oauth" in run.outputs));
    });

    it("configures only the providers set: Google alone gives one provider and Google on the client", async () => {
        const run = await runProgramIsolated(
            "dev",
            {
                "notes-infra:identityProviders": JSON.stringify({ google: PROVIDERS.google }),
                "notes-infra:identityProviderSecrets": JSON.stringify({ google: SECRETS.google }),
                "notes-infra:authDomainPrefix": "notes-login-test",
            },
            undefined,
            SECRET_KEYS,
        );
        assert.deepEqual(ofType(run, "aws:cognito/identityProvider:IdentityProvider").map((provider) => provider.inputs.providerName), ["Google"]);
        assert.deepEqual(single(run, "aws:cognito/userPoolClient:UserPoolClient").inputs.supportedIdentityProviders, ["COGNITO", "Google"]);
        assert.deepEqual(JSON.parse(named(run, "notes-auth-link-accounts").inputs.environment.variables.LINK_PROVIDERS), ["Google"]);
    });
});
