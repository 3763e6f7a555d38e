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

export type LambdaHandler = (event: HttpApiEvent, context?: LambdaContext) => Promise<HttpResponse>;
export type LoadedHandlers = Record<HandlerName, { handler: LambdaHandler }> & { restoreEnv(): void };

const HANDLERS_DIR = path.resolve(__dirname, "../../handlers");

export function loadHandlers(env: Record<string, string | undefined>): LoadedHandlers {
    return loadHandlerModules(HANDLER_NAMES, env) as LoadedHandlers;
}

/** Like `loadHandlers`, for the named handler modules only (e.g. `["account"]`, which needs its own variables). */
export function loadHandlerModules<N extends string>(names: readonly N[], env: Record<string, string | undefined>): Record<N, { handler: LambdaHandler }> & { restoreEnv(): void } {
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
        const loaded = Object.fromEntries(names.map((name) => [name, require(path.join(HANDLERS_DIR, name))])) as Record<N, { handler: LambdaHandler }>;
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
