import { LOCAL_CREDENTIALS, LOCAL_REGION } from "../dynamodb/dynalite";

/** The environment a deployed function gets, pointed at local emulators. */
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
