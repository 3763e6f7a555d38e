import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NotesApi } from "./components/api";
import { NotesAuth } from "./components/auth";
import { oauthRedirectUrls } from "./components/federation";
import { NotesStorage } from "./components/storage";
import { loadConfig } from "./lib/config";
import { configuredProviders } from "./lib/identity-providers";
import type { StackOutputs } from "./outputs";

// Stack settings (defaults in Pulumi.yaml); invalid ones stop the program here, naming the key.
const config = loadConfig();

const storage = new NotesStorage("notes-storage", {
    corsAllowedOrigins: config.corsAllowedOrigins,
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
    corsAllowedOrigins: config.corsAllowedOrigins,
    logRetentionDays: config.logRetentionDays,
    throttlingBurstLimit: config.throttlingBurstLimit,
    throttlingRateLimit: config.throttlingRateLimit,
    memorySize: config.lambdaMemorySize,
    timeoutSeconds: config.lambdaTimeoutSeconds,
});

const auth = new NotesAuth("notes-auth", {
    apiRouteArns: api.routeArns,
    bucketArn: storage.bucketArn,
    passwordMinimumLength: config.passwordMinimumLength,
    passwordRequireSymbols: config.passwordRequireSymbols,
    allowUserPasswordAuth: config.allowUserPasswordAuth,
    deletionProtection: config.deletionProtection,
    retainOnDelete: config.retainOnDelete,
    userPoolTier: config.userPoolTier,
    emailSourceArn: config.emailSourceArn,
    emailFrom: config.emailFrom,
    federation: signInProviders(),
});

/** Sign-in through other providers, when the stack configures any (`identityProviders`). */
function signInProviders() {
    const providers = configuredProviders(config.identityProviders);
    if (providers.length === 0) return undefined;
    // Every origin the app is served from; the callback and sign-out URLs follow from this list.
    const appOrigins: pulumi.Input<string>[] = [...config.corsAllowedOrigins];
    return {
        providers,
        secrets: config.identityProviderSecrets,
        domainPrefix: config.authDomainPrefix,
        customDomain: config.authCustomDomain ? { domain: config.authCustomDomain, certificateArn: config.authCustomDomainCertificateArn! } : undefined,
        redirectUrls: oauthRedirectUrls(appOrigins),
        logRetentionDays: config.logRetentionDays,
    };
}

// What a web client needs (Amplify Auth, Storage and a SigV4-signing API client): `StackOutputs`.
// An optional output (`oauth`) is undefined, and so absent, when the stack has nothing to put in it.
type Exported = { [K in keyof StackOutputs]-?: pulumi.Output<NonNullable<StackOutputs[K]>> };
const outputs: Omit<Exported, "oauth"> & { oauth: Exported["oauth"] | undefined } = {
    region: aws.getRegionOutput().region,
    userPoolId: auth.userPoolId,
    userPoolClientId: auth.userPoolClientId,
    identityPoolId: auth.identityPoolId,
    apiUrl: api.url,
    bucketName: storage.bucketName,
    tableName: storage.tableName,
    oauth: auth.oauth,
};
export const { region, userPoolId, userPoolClientId, identityPoolId, apiUrl, bucketName, tableName, oauth } = outputs;
