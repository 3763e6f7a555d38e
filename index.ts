import * as aws from "@pulumi/aws";
import { NotesApi } from "./components/api";
import { NotesAuth } from "./components/auth";
import { NotesStorage } from "./components/storage";
import { loadConfig } from "./lib/config";

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
});

// What a web client needs (Amplify Auth, Storage and a SigV4-signing API client).
export const region = aws.getRegionOutput().region;
export const userPoolId = auth.userPoolId;
export const userPoolClientId = auth.userPoolClientId;
export const identityPoolId = auth.identityPoolId;
export const apiUrl = api.url;
export const bucketName = storage.bucketName;
export const tableName = storage.tableName;
