/**
 * Loads the five Lambda handler modules fresh, with a given environment, as Lambda would on a
 * cold start. Handlers read their environment and build SDK clients at module scope (and the SDK
 * resolves endpoint and credentials lazily, on the first request), so:
 *
 *     const lambdas = loadHandlers({ TABLE_NAME: db.tableName, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, ... });
 *     const res = await lambdas.create.handler(httpEvent({...}));
 *     lambdas.restoreEnv();   // in after(), once no more requests are made
 *
 * Each call re-evaluates the modules, so tests in other files that loaded them with another
 * environment keep their own instances.
 */
import * as path from "node:path";
import { HANDLER_NAMES, type HandlerName } from "../../components/api";
import type { HttpApiEvent, HttpResponse, LambdaContext } from "../../handlers/http";
import { LOCAL_CREDENTIALS, LOCAL_REGION } from "./dynalite";

export type LambdaHandler = (event: HttpApiEvent, context?: LambdaContext) => Promise<HttpResponse>;
export type LoadedHandlers = Record<HandlerName, { handler: LambdaHandler }> & { restoreEnv(): void };

const HANDLERS_DIR = path.resolve(__dirname, "../../handlers");

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

export function loadHandlers(env: Record<string, string | undefined>): LoadedHandlers {
    const saved = new Map<string, string | undefined>();
    for (const [key, value] of Object.entries(env)) {
        saved.set(key, process.env[key]);
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
    const restoreEnv = () => {
        for (const [key, value] of saved) {
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
    };
    try {
        forgetHandlerModules();
        const loaded = Object.fromEntries(
            HANDLER_NAMES.map((name) => [name, require(path.join(HANDLERS_DIR, name))]),
        ) as Record<HandlerName, { handler: LambdaHandler }>;
        return { ...loaded, restoreEnv };
    } catch (error) {
        restoreEnv();
        throw error;
    }
}

/** Drops cached handler modules so the next require re-runs their module scope. */
export function forgetHandlerModules(): void {
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(HANDLERS_DIR + path.sep)) delete require.cache[id];
    }
}
