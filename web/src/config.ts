/**
 * What the reference client knows about a stack, written into index.html as a JSON data block
 * (`<script type="application/json" id="config">`, and the same JSON as `config.json` beside it for
 * other tooling) by `pulumi up`, `npm run web:build` from `pulumi stack output --json`, or
 * `npm start` from the local outputs. No Amplify import here: the Node build reads this module too.
 */
import { type OAuthOutput, OPTIONAL_STACK_OUTPUT_NAMES, STACK_OUTPUT_NAMES, type StackOutputs } from "../../outputs";

/** The id of index.html's configuration data block, which the page reads at start (web/build.ts writes it). */
export const CONFIG_ELEMENT_ID = "config";

/**
 * A configuration as the text of an HTML data block: JSON with every `<`, `>` and `&` (and U+2028,
 * U+2029) written as a `\u` escape, so no value can end the block (`</script>`) or open a comment
 * (`<!--`); `JSON.parse` reads the same value back.
 */
export function configDataBlockText(config: WebClientConfig): string {
    return JSON.stringify(config).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** How `signIn` proves the password: SRP on AWS; USER_PASSWORD_AUTH on the local cloud (cognito-local has no SRP). */
export type AuthFlowType = "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
export const AUTH_FLOW_TYPES: readonly AuthFlowType[] = ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"];

/** The stack's `mfa` setting: whether people may, or must, add an authenticator app (TOTP) as a second step. */
export type MfaSetting = "off" | "optional" | "required";
export const MFA_SETTINGS: readonly MfaSetting[] = ["off", "optional", "required"];

/** The stack outputs the client uses: all but the table, which only the functions reach, and the site's own URL. */
type ClientStackOutputs = Omit<StackOutputs, "tableName" | "siteUrl">;

export interface WebClientConfig extends ClientStackOutputs {
    authFlowType: AuthFlowType;
    /**
     * The stack's `mfa` setting, which decides what the account view offers: nothing (`off`), set up
     * and turn off (`optional`), set up only (`required`). Absent: `optional`, the setting's default.
     */
    mfa?: MfaSetting;
    /** Local cloud only: where its User Pools and Identity Pools answer. Absent for AWS. */
    endpoints?: { cognitoIdp: string; cognitoIdentity: string };
    /**
     * Local cloud only: the path under which the web server relays requests for the bucket's S3
     * host name (`<bucket>.s3.<region>.amazonaws.com`) to the local S3; a service worker sends them
     * there. Absent for AWS.
     */
    s3Relay?: string;
}

/** The outputs every client configuration has: all but the table and the optional ones (`oauth` is read on its own). */
const STACK_OUTPUTS = STACK_OUTPUT_NAMES.filter(
    (name): name is Exclude<(typeof STACK_OUTPUT_NAMES)[number], "tableName" | (typeof OPTIONAL_STACK_OUTPUT_NAMES)[number]> =>
        name !== "tableName" && !(OPTIONAL_STACK_OUTPUT_NAMES as readonly string[]).includes(name),
);

/** The S3 host name Amplify Storage sends requests to (virtual-hosted style, as it builds it). */
export function bucketHost(config: Pick<WebClientConfig, "bucketName" | "region">): string {
    const suffix = config.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return `${config.bucketName}.s3.${config.region}.${suffix}`;
}

/**
 * Checks a parsed `config.json` (or stack outputs plus the client settings) and returns it typed;
 * throws one message naming every missing or malformed field.
 */
export function parseClientConfig(value: unknown): WebClientConfig {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("the client configuration must be a JSON object");
    const input = value as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of STACK_OUTPUTS) {
        if (typeof input[key] !== "string" || input[key] === "") problems.push(`${key} (a stack output) is missing`);
    }
    if (typeof input.apiUrl === "string" && !/^https?:\/\/[^/]+/.test(input.apiUrl)) problems.push(`apiUrl must be an http(s) URL, got ${JSON.stringify(input.apiUrl)}`);
    if (!AUTH_FLOW_TYPES.includes(input.authFlowType as AuthFlowType)) {
        problems.push(`authFlowType must be one of ${AUTH_FLOW_TYPES.join(", ")}, got ${JSON.stringify(input.authFlowType)}`);
    }
    if (input.mfa !== undefined && !MFA_SETTINGS.includes(input.mfa as MfaSetting)) problems.push(`mfa must be one of ${MFA_SETTINGS.join(", ")}, got ${JSON.stringify(input.mfa)}`);
    const endpoints = input.endpoints as Record<string, unknown> | undefined;
    if (endpoints !== undefined && (typeof endpoints !== "object" || endpoints === null || typeof endpoints.cognitoIdp !== "string" || typeof endpoints.cognitoIdentity !== "string")) {
        problems.push("endpoints must have cognitoIdp and cognitoIdentity URLs");
    }
    const oauth = input.oauth as Record<string, unknown> | undefined;
    const strings = (value: unknown) => Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string" && item !== "");
    if (
        oauth !== undefined &&
        (typeof oauth !== "object" || oauth === null || typeof oauth.domain !== "string" || !/^[a-z0-9.-]+(:\d+)?$/i.test(oauth.domain) || oauth.responseType !== "code" ||
            !strings(oauth.scopes) || !strings(oauth.redirectSignIn) || !strings(oauth.redirectSignOut) || !strings(oauth.providers))
    ) {
        problems.push("oauth must have a domain (host[:port]), scopes, redirectSignIn, redirectSignOut, providers and responseType code");
    }
    if (input.s3Relay !== undefined && (typeof input.s3Relay !== "string" || !/^\/[\w-]+\/$/.test(input.s3Relay))) {
        problems.push(`s3Relay must be a path like /s3-relay/, got ${JSON.stringify(input.s3Relay)}`);
    }
    if (problems.length > 0) throw new Error(`invalid client configuration: ${problems.join("; ")}`);
    const config: WebClientConfig = {
        region: input.region as string,
        userPoolId: input.userPoolId as string,
        userPoolClientId: input.userPoolClientId as string,
        identityPoolId: input.identityPoolId as string,
        apiUrl: input.apiUrl as string,
        bucketName: input.bucketName as string,
        authFlowType: input.authFlowType as AuthFlowType,
    };
    if (input.mfa !== undefined) config.mfa = input.mfa as MfaSetting;
    if (oauth) config.oauth = oauth as unknown as OAuthOutput;
    if (endpoints) config.endpoints = { cognitoIdp: endpoints.cognitoIdp as string, cognitoIdentity: endpoints.cognitoIdentity as string };
    if (input.s3Relay !== undefined) config.s3Relay = input.s3Relay as string;
    return config;
}
