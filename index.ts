import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRouteArn, NotesAccount } from "./components/account";
import { NotesApi } from "./components/api";
import { NotesAuth } from "./components/auth";
import { NotesSite } from "./components/site";
import { NotesMonitoring } from "./components/monitoring";
import { oauthRedirectUrls } from "./components/federation";
import { NotesStorage } from "./components/storage";
import { loadConfig } from "./lib/config";
import { configuredProviders } from "./lib/identity-providers";
import type { OPTIONAL_STACK_OUTPUT_NAMES, StackOutputs } from "./outputs";

// Stack settings (defaults in Pulumi.yaml); invalid ones stop the program here, naming the key.
const config = loadConfig();

// The hosted site's origin joins corsAllowedOrigins; the site comes last (its content names the
// API and the pools), so its origin is filled in below.
const [siteOrigins, setSiteOrigins] = pulumi.deferredOutput<string[]>();
const corsAllowedOrigins = pulumi.all([config.corsAllowedOrigins, siteOrigins]).apply(([listed, site]) => [...new Set([...listed, ...site])]);

const storage = new NotesStorage("notes-storage", {
    corsAllowedOrigins,
    deletionProtection: config.deletionProtection,
    retainOnDelete: config.retainOnDelete,
    bucketVersioning: config.bucketVersioning,
    noncurrentVersionExpirationDays: config.noncurrentVersionExpirationDays,
    bucketForceDestroy: config.bucketForceDestroy,
});

const api = new NotesApi("notes-api", {
    tableName: storage.tableName,
    tableArn: storage.tableArn,
    bucketName: storage.bucketName,
    bucketArn: storage.bucketArn,
    corsAllowedOrigins,
    logRetentionDays: config.logRetentionDays,
    throttlingBurstLimit: config.throttlingBurstLimit,
    throttlingRateLimit: config.throttlingRateLimit,
    memorySize: config.lambdaMemorySize,
    timeoutSeconds: config.lambdaTimeoutSeconds,
    tracing: config.tracing,
});

const auth = new NotesAuth("notes-auth", {
    apiRouteArns: [...api.routeArns, accountRouteArn(api.executionArn)],
    bucketArn: storage.bucketArn,
    passwordMinimumLength: config.passwordMinimumLength,
    passwordRequireSymbols: config.passwordRequireSymbols,
    allowUserPasswordAuth: config.allowUserPasswordAuth,
    deletionProtection: config.deletionProtection,
    retainOnDelete: config.retainOnDelete,
    userPoolTier: config.userPoolTier,
    emailSourceArn: config.emailSourceArn,
    emailFrom: config.emailFrom,
    mfa: config.mfa,
    federation: signInProviders(),
});

// DELETE /account on the same API: it needs the pools, so it comes after them.
const account = new NotesAccount("notes", {
    apiId: api.apiId,
    apiExecutionArn: api.executionArn,
    tableName: storage.tableName,
    tableArn: storage.tableArn,
    bucketName: storage.bucketName,
    bucketArn: storage.bucketArn,
    userPoolId: auth.userPoolId,
    userPoolArn: auth.userPool.arn,
    userPoolEndpoint: auth.userPool.endpoint,
    identityPoolId: auth.identityPoolId,
    identityPoolArn: auth.identityPool.arn,
    logRetentionDays: config.logRetentionDays,
    memorySize: config.lambdaMemorySize,
    tracing: config.tracing,
});

const site = config.site
    ? new NotesSite("notes-site", {
          clientConfig: pulumi.output({
              region: aws.getRegionOutput().region,
              userPoolId: auth.userPoolId,
              userPoolClientId: auth.userPoolClientId,
              identityPoolId: auth.identityPoolId,
              apiUrl: api.url,
              bucketName: storage.bucketName,
              authFlowType: "USER_SRP_AUTH" as const,
              mfa: config.mfa,
              oauth: auth.oauth,
          }),
          priceClass: config.sitePriceClass,
          domain: config.siteDomain,
          certificateArn: config.siteCertificateArn,
          hostedZoneId: config.siteHostedZoneId,
      })
    : undefined;
setSiteOrigins(site ? site.origin.apply((origin) => [origin]) : pulumi.output([]));
// Alarms, dashboard and saved queries on what the components above deployed (docs/operations.md).
new NotesMonitoring("notes-monitoring", {
    apiId: api.apiId,
    stageName: api.stage.name,
    // Every function the stack deploys: the routes', the account's, the sign-up trigger's.
    functions: [...api.functions, account, ...auth.functions],
    tableName: storage.tableName,
    userPoolId: auth.userPoolId,
    userPoolClientId: auth.userPoolClientId,
    alarmEmail: config.alarmEmail,
    api5xxPerMinute: config.alarmApi5xxPerMinute,
    apiLatencyP99Ms: config.alarmApiLatencyP99Ms,
});

/** Sign-in through other providers, when the stack configures any (`identityProviders`). */
function signInProviders() {
    const providers = configuredProviders(config.identityProviders);
    if (providers.length === 0) return undefined;
    return {
        providers,
        secrets: config.identityProviderSecrets,
        domainPrefix: config.authDomainPrefix,
        customDomain: config.authCustomDomain ? { domain: config.authCustomDomain, certificateArn: config.authCustomDomainCertificateArn! } : undefined,
        // Every origin the app is served from (the hosted site's too): the callback and sign-out URLs.
        redirectUrls: oauthRedirectUrls(corsAllowedOrigins),
        logRetentionDays: config.logRetentionDays,
    };
}

// What a web client needs (Amplify Auth, Storage and a SigV4-signing API client): `StackOutputs`,
// in the order `STACK_OUTPUT_NAMES` lists them.
type Exported = { [K in keyof StackOutputs]-?: pulumi.Output<NonNullable<StackOutputs[K]>> };
type Optional = (typeof OPTIONAL_STACK_OUTPUT_NAMES)[number];
const outputs: Omit<Exported, Optional> & { [K in Optional]: Exported[K] | undefined } = {
    region: aws.getRegionOutput().region,
    userPoolId: auth.userPoolId,
    userPoolClientId: auth.userPoolClientId,
    identityPoolId: auth.identityPoolId,
    apiUrl: api.url,
    bucketName: storage.bucketName,
    tableName: storage.tableName,
    siteUrl: site?.url,
    oauth: auth.oauth,
};

// An optional output (`siteUrl` with `site: false`, `oauth` without `identityProviders`) is left out
// altogether: exported as undefined, Pulumi would warn of it on every preview and deploy.
export = Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)) as Partial<Exported>;
