import { mkdirSync } from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";

/** cognito-local's building blocks (what its `createDefaultServer` wires), loaded on first use. */
function cognitoLocal() {
    // cognito-local bundles AWS SDK v2, which prints an end-of-support notice when loaded.
    process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
    return {
        loadConfig: require("cognito-local/lib/server/config").loadConfig,
        createCognitoApp: require("cognito-local/lib/server/server").createServer,
        Router: require("cognito-local/lib/server/Router").Router,
        services: require("cognito-local/lib/services"),
        CognitoServiceFactoryImpl: require("cognito-local/lib/services/cognitoService").CognitoServiceFactoryImpl,
        CryptoService: require("cognito-local/lib/services/crypto").CryptoService,
        StormDBDataStoreFactory: require("cognito-local/lib/services/dataStore/stormDb").StormDBDataStoreFactory,
        MessageDeliveryService: require("cognito-local/lib/services/messageDelivery/messageDelivery").MessageDeliveryService,
        otp: require("cognito-local/lib/services/otp").otp,
        JwtTokenGenerator: require("cognito-local/lib/services/tokenGenerator").JwtTokenGenerator,
        UserPoolServiceFactoryImpl: require("cognito-local/lib/services/userPoolService").UserPoolServiceFactoryImpl,
    };
}

/** The public key cognito-local signs every token with (what its JWKS endpoint serves). */
export const COGNITO_LOCAL_JWK: Record<string, string> = require("cognito-local/lib/keys/cognitoLocal.public.json").jwk;

export interface LocalUserPools {
    /** `http://127.0.0.1:<port>`: the endpoint for SDK clients and the token issuer prefix. */
    endpoint: string;
    /** Calls one Cognito Identity Provider action in-process (what the HTTP endpoint would do). */
    call<T = any>(action: string, request: Record<string, unknown>): Promise<T>;
    /** The pool's record, or undefined when it does not exist. */
    describePool(userPoolId: string): Promise<any | undefined>;
    close(): Promise<void>;
}

export interface UserPoolsOptions {
    dataDir: string;
    port?: number;
    /** Where sign-up confirmation codes go. */
    onCode?: (line: string) => void;
}

function quietLogger(): any {
    const pino = require("pino");
    return pino({ level: process.env.COGNITO_LOCAL_LOG_LEVEL ?? "silent" });
}

/**
 * Starts cognito-local on 127.0.0.1 with its data under `<dataDir>/cognito`. Assembled from its
 * parts rather than `createDefaultServer` so that the data lives under our data directory (not
 * `./.cognito`), tokens name the port it really listens on as issuer, and confirmation codes
 * print as one readable line.
 */
export async function startUserPools(options: UserPoolsOptions): Promise<LocalUserPools> {
    const {
        loadConfig,
        createCognitoApp,
        Router,
        services,
        CognitoServiceFactoryImpl,
        CryptoService,
        StormDBDataStoreFactory,
        MessageDeliveryService,
        otp,
        JwtTokenGenerator,
        UserPoolServiceFactoryImpl,
    } = cognitoLocal();
    const dir = path.join(options.dataDir, "cognito");
    mkdirSync(path.join(dir, "db"), { recursive: true });
    let app: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    const server: Server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const logger = quietLogger();
    const ctx = { logger };
    const config = await loadConfig(ctx, new StormDBDataStoreFactory(dir));
    config.TokenConfig = { ...config.TokenConfig, IssuerDomain: endpoint };
    const clock = new services.DateClock();
    const dataStoreFactory = new StormDBDataStoreFactory(path.join(dir, "db"));
    const cognito = await new CognitoServiceFactoryImpl(
        path.join(dir, "db"),
        dataStoreFactory,
        new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
    ).create(ctx, config.UserPoolDefaults);
    const onCode = options.onCode ?? ((line: string) => process.stdout.write(`${line}\n`));
    const sender = {
        send(_ctx: unknown, user: any, destination: string, message: any) {
            onCode(`[cognito] confirmation code for ${user.Username} (${destination}): ${message.__code}`);
            return Promise.resolve();
        },
        sendEmail(...args: [unknown, any, string, any]) {
            return this.send(...args);
        },
        sendSms(...args: [unknown, any, string, any]) {
            return this.send(...args);
        },
    };
    // Lambda triggers are not configured by this program; cognito-local's Lambda client is never called.
    const triggers = new services.TriggersService(clock, cognito, new services.LambdaService({}, undefined), new CryptoService(config.KMSConfig));
    const all = {
        clock,
        cognito,
        config,
        messages: new services.MessagesService(triggers, new MessageDeliveryService(sender)),
        otp,
        tokenGenerator: new JwtTokenGenerator(clock, triggers, config.TokenConfig),
        triggers,
    };
    const router = Router(all);
    app = createCognitoApp(router, logger, { ...config.ServerConfig, development: false }, all).application;

    return {
        endpoint,
        async call(action, request) {
            return router(action)(ctx, request);
        },
        async describePool(userPoolId) {
            try {
                return (await router("DescribeUserPool")(ctx, { UserPoolId: userPoolId })).UserPool;
            } catch {
                return undefined;
            }
        },
        close() {
            server.closeAllConnections();
            return new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
