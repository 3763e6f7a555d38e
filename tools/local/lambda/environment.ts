import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../dynamodb/dynalite";
import type { SessionCredentials } from "../sts/credentials";

export interface RuntimeEnvironmentOptions {
    region: string;
    /** The execution role's session. */
    session: Pick<SessionCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">;
    functionName: string;
    memorySize: number;
    /** `nodejs22.x`. */
    runtime: string;
    /** Where the deployment package is unpacked. */
    taskRoot: string;
    /** The local services the SDK's standard endpoint variables point at. */
    endpoints: { dynamodb: string; s3: string; cognitoIdp?: string };
}

/**
 * What the Lambda runtime puts in a function's environment besides the function's own variables:
 * region, the execution role's session, function metadata; plus the SDK's standard endpoint
 * variables, pointed at the local services.
 */
export function runtimeEnvironment(options: RuntimeEnvironmentOptions): Record<string, string> {
    return {
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
        AWS_ACCESS_KEY_ID: options.session.accessKeyId,
        AWS_SECRET_ACCESS_KEY: options.session.secretAccessKey,
        AWS_SESSION_TOKEN: options.session.sessionToken,
        AWS_LAMBDA_FUNCTION_NAME: options.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySize),
        AWS_EXECUTION_ENV: `AWS_Lambda_${options.runtime}`,
        LAMBDA_TASK_ROOT: options.taskRoot,
        TZ: ":UTC",
        AWS_ENDPOINT_URL_DYNAMODB: options.endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: options.endpoints.s3,
        ...(options.endpoints.cognitoIdp && { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: options.endpoints.cognitoIdp }),
        // Lambda runs nodejs22.x; the SDK's "Node 20 support ends" notice is about this machine.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
}

/**
 * The environment of a handler run without the local cloud (tests, benchmarks): its own variables
 * and static credentials, pointed at a standalone dynalite (`startDynalite`) and optionally an S3.
 */
export function localLambdaEnv(options: { tableName: string; dynamoEndpoint: string; bucketName?: string; s3Endpoint?: string }) {
    const env: Record<string, string> = {
        TABLE_NAME: options.tableName,
        BUCKET_NAME: options.bucketName ?? "notes-uploads-test",
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
    };
    if (options.s3Endpoint) env.AWS_ENDPOINT_URL_S3 = options.s3Endpoint;
    return env;
}
