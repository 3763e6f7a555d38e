import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRouteArn, NotesAccount } from "./components/account";
import { NotesApi } from "./components/api";
import { NotesAuth } from "./components/auth";
import { NotesStorage } from "./components/storage";
import { loadConfig } from "./lib/config";
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
});

// DELETE /account on the same API: it needs the pools, so it comes after them.
new NotesAccount("notes", {
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
});

// What a web client needs (Amplify Auth, Storage and a SigV4-signing API client): `StackOutputs`.
const outputs: { [K in keyof StackOutputs]: pulumi.Output<StackOutputs[K]> } = {
    region: aws.getRegionOutput().region,
    userPoolId: auth.userPoolId,
    userPoolClientId: auth.userPoolClientId,
    identityPoolId: auth.identityPoolId,
    apiUrl: api.url,
    bucketName: storage.bucketName,
    tableName: storage.tableName,
};
export const { region, userPoolId, userPoolClientId, identityPoolId, apiUrl, bucketName, tableName } = outputs;
