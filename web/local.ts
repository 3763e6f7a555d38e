import type { LocalOutputs } from "../tools/local/outputs";
import { ClientFiles, withConfig } from "./build";
import { bucketHost, type MfaSetting, WebClientConfig } from "./src/config";
import { WebServer } from "./server";

/** Where `npm start` serves the client: one of the stack's default `corsAllowedOrigins`. */
export const DEFAULT_WEB_PORT = 5173;
/** The web server's path for relayed S3 requests (see `web/src/s3-relay-sw.ts`). */
export const S3_RELAY_PATH = "/s3-relay/";

/** Stack settings the client shows, besides the outputs. */
export interface LocalClientSettings {
    /** The stack's `mfa` setting (absent: the client assumes `optional`, the default). */
    mfa?: MfaSetting;
}

/**
 * The client configuration for the local cloud: its outputs, its Cognito endpoints, the S3 relay,
 * and USER_SRP_AUTH, the flow the client uses on AWS (the local User Pools answer SRP as Cognito does).
 */
export function localClientConfig(outputs: LocalOutputs, settings: LocalClientSettings = {}): WebClientConfig {
    return {
        ...(settings.mfa && { mfa: settings.mfa }),
        region: outputs.region,
        userPoolId: outputs.userPoolId,
        userPoolClientId: outputs.userPoolClientId,
        identityPoolId: outputs.identityPoolId,
        apiUrl: outputs.apiUrl,
        bucketName: outputs.bucketName,
        authFlowType: "USER_SRP_AUTH",
        endpoints: { cognitoIdp: outputs.endpoints.cognitoIdp, cognitoIdentity: outputs.endpoints.cognitoIdentity },
        s3Relay: S3_RELAY_PATH,
        // The managed login on its loopback TLS port (tools/local/README.md).
        ...(outputs.oauth && { oauth: outputs.oauth }),
    };
}

export interface LocalWebClient {
    /** `http://localhost:<port>/` */
    url: string;
    port: number;
    server: WebServer;
}

/** Serves the bundled client for the local cloud on 127.0.0.1:`port`, relaying the bucket's S3 host to the local S3. */
export async function serveLocalClient(bundle: ClientFiles, outputs: LocalOutputs, port = DEFAULT_WEB_PORT, settings: LocalClientSettings = {}): Promise<LocalWebClient> {
    const config = localClientConfig(outputs, settings);
    const server = new WebServer({
        // index.html gets the document policy from the local endpoints: a CSP mistake fails here first.
        files: withConfig(bundle, config),
        relay: { path: S3_RELAY_PATH, host: bucketHost(config), target: outputs.endpoints.s3 },
    });
    const bound = await server.listen(port);
    return { url: `http://localhost:${bound}/`, port: bound, server };
}
