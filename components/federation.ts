import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleHandlers, LAMBDA_HANDLER } from "../lib/bundle";
import { policyJson, serviceTrustPolicy } from "../lib/iam";
import { appRedirectUrls, type ConfiguredProvider, OAUTH_SCOPES, prefixDomainHost, secretDetailKey } from "../lib/identity-providers";
import type { OAuthOutput } from "../outputs";
import type { MonitoredFunction } from "./monitoring";

/**
 * Sign-in through Google, Apple, Facebook, Login with Amazon or OIDC providers, through the User
 * Pool's managed login and OAuth 2.0. NotesAuth builds these pieces, as its own children, around
 * its User Pool and app client when a stack configures providers.
 */
export interface FederationArgs {
    /** The providers, resolved from `identityProviders`. At least one. */
    providers: ConfiguredProvider[];
    /** Provider key -> client secret (Apple: private key), as Pulumi secrets. Fed by `identityProviderSecrets`. */
    secrets: Record<string, pulumi.Input<string>>;
    /** Managed-login prefix (`<prefix>.auth.<region>.amazoncognito.com`). Fed by `authDomainPrefix`. */
    domainPrefix?: string;
    /** A custom managed-login domain and its us-east-1 ACM certificate. Fed by `authCustomDomain` and `authCustomDomainCertificateArn`. */
    customDomain?: { domain: string; certificateArn: string };
    /** The app's callback and sign-out URLs (`oauthRedirectUrls` of the app's origins). */
    redirectUrls: pulumi.Input<string[]>;
    /** Retention of the account-linking trigger's log group. Fed by `logRetentionDays`. */
    logRetentionDays: number;
}

/** The handler (handlers/link-accounts.ts) of the pre sign-up trigger. */
export const LINKING_HANDLER = "link-accounts";

/**
 * The app client's callback and sign-out URLs from the origins the app is served from: one list,
 * so nothing is typed twice. Add an origin (the hosted site's) to the list, not a URL here.
 */
export function oauthRedirectUrls(origins: pulumi.Input<pulumi.Input<string>[]>): pulumi.Output<string[]> {
    return pulumi.output(origins).apply((list) => appRedirectUrls(list));
}

/**
 * The pre sign-up trigger's function and its own role (its permissions come with `grantLinking`,
 * once the pool exists), and what NotesMonitoring watches of it: it answers Cognito, not HTTP, and
 * touches no table.
 */
export interface LinkingFunction extends MonitoredFunction {
    function: aws.lambda.Function;
    role: aws.iam.Role;
    logGroup: aws.cloudwatch.LogGroup;
}

export function createLinkingFunction(parent: pulumi.Resource, name: string, args: FederationArgs): LinkingFunction {
    const prefix = `${name}-link-accounts`;
    const bundle = bundleHandlers([LINKING_HANDLER]).get(LINKING_HANDLER)!;
    const logGroup = new aws.cloudwatch.LogGroup(`${prefix}-logs`, { retentionInDays: args.logRetentionDays }, { parent });
    const role = new aws.iam.Role(
        `${prefix}-role`,
        {
            description: "Notes pre sign-up trigger: finds a user by verified email and links a federated sign-in to it, in this User Pool only",
            assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com"),
        },
        { parent },
    );
    const linkable = args.providers.filter((provider) => provider.kind.linksOnVerifiedEmail).map((provider) => provider.providerName);
    const fn = new aws.lambda.Function(
        prefix,
        {
            description: "Notes pre sign-up: link a federated sign-in to the user with the same verified email",
            runtime: aws.lambda.Runtime.NodeJS22dX,
            architectures: ["arm64"],
            handler: LAMBDA_HANDLER,
            code: new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(bundle.files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]))),
            role: role.arn,
            memorySize: 256,
            // Cognito waits 5 s for a trigger.
            timeout: 5,
            environment: { variables: { LINK_PROVIDERS: JSON.stringify(linkable) } },
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "INFO" },
        },
        { parent },
    );
    return { function: fn, role, logGroup, handler: LINKING_HANDLER, invokedBy: "Cognito pre sign-up trigger", answersHttp: false, tableActions: [] };
}

/** The trigger's permissions on this pool only, and Cognito's permission to invoke it for this pool only. */
export function grantLinking(parent: pulumi.Resource, name: string, userPool: aws.cognito.UserPool, linking: LinkingFunction): void {
    const prefix = `${name}-link-accounts`;
    new aws.iam.RolePolicy(
        `${prefix}-policy`,
        {
            role: linking.role.id,
            policy: policyJson([
                {
                    Sid: "LinkInThisPool",
                    Effect: "Allow",
                    Action: ["cognito-idp:ListUsers", "cognito-idp:AdminLinkProviderForUser"],
                    Resource: userPool.arn,
                },
                {
                    Sid: "OwnLogGroup",
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: pulumi.interpolate`${linking.logGroup.arn}:*`,
                },
            ]),
        },
        { parent },
    );
    new aws.lambda.Permission(
        `${prefix}-invoke`,
        { action: "lambda:InvokeFunction", function: linking.function.name, principal: "cognito-idp.amazonaws.com", sourceArn: userPool.arn },
        { parent },
    );
}

/** One `aws.cognito.IdentityProvider` per configured provider, its secret passed as a secret. */
export function createIdentityProviders(parent: pulumi.Resource, name: string, userPool: aws.cognito.UserPool, args: FederationArgs): aws.cognito.IdentityProvider[] {
    return args.providers.map((provider) => {
        const secret = pulumi.secret(args.secrets[provider.secretKey]);
        const providerDetails = pulumi
            .all([secret])
            .apply(([value]) => ({
                client_id: provider.clientId,
                [secretDetailKey(provider.kind.type)]: value,
                authorize_scopes: provider.kind.authorizeScopes,
                ...provider.details,
            }));
        return new aws.cognito.IdentityProvider(
            `${name}-${provider.secretKey.toLowerCase()}-provider`,
            {
                userPoolId: userPool.id,
                providerName: provider.providerName,
                providerType: provider.kind.type,
                // apply() on a secret keeps the result secret: the details never reach the state in clear.
                providerDetails: pulumi.secret(providerDetails),
                attributeMapping: provider.kind.attributeMapping,
            },
            { parent },
        );
    });
}

/** The managed-login domains: the prefix domain, and the custom domain when set. */
export function createDomains(parent: pulumi.Resource, name: string, userPool: aws.cognito.UserPool, args: FederationArgs): aws.cognito.UserPoolDomain[] {
    const domains: aws.cognito.UserPoolDomain[] = [];
    if (args.domainPrefix) {
        domains.push(new aws.cognito.UserPoolDomain(`${name}-domain`, { userPoolId: userPool.id, domain: args.domainPrefix }, { parent }));
    }
    if (args.customDomain) {
        domains.push(
            new aws.cognito.UserPoolDomain(
                `${name}-custom-domain`,
                { userPoolId: userPool.id, domain: args.customDomain.domain, certificateArn: args.customDomain.certificateArn },
                { parent },
            ),
        );
    }
    return domains;
}

/** The app client's OAuth settings: the authorization code flow only, never `implicit` (tokens in URLs). */
export function oauthClientSettings(args: FederationArgs, providers: aws.cognito.IdentityProvider[]): Partial<aws.cognito.UserPoolClientArgs> {
    return {
        allowedOauthFlowsUserPoolClient: true,
        allowedOauthFlows: ["code"],
        allowedOauthScopes: OAUTH_SCOPES,
        callbackUrls: args.redirectUrls,
        logoutUrls: args.redirectUrls,
        supportedIdentityProviders: pulumi.all(providers.map((provider) => provider.providerName)).apply((names) => ["COGNITO", ...names]),
    };
}

/** What Amplify's `Auth.Cognito.loginWith.oauth` takes, plus the providers' names for the buttons. */
export function oauthOutput(args: FederationArgs, domains: aws.cognito.UserPoolDomain[]): pulumi.Output<OAuthOutput> {
    const host = args.customDomain
        ? pulumi.output(args.customDomain.domain)
        : aws.getRegionOutput({}, { parent: domains[0] }).region.apply((region) => prefixDomainHost(args.domainPrefix!, region));
    const ready = pulumi.all(domains.map((domain) => domain.id));
    return pulumi.all([host, pulumi.output(args.redirectUrls), ready]).apply(([domain, urls]): OAuthOutput => ({
        domain,
        scopes: [...OAUTH_SCOPES],
        redirectSignIn: urls,
        redirectSignOut: urls,
        responseType: "code",
        providers: args.providers.map((provider) => provider.providerName),
    }));
}
