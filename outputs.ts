/**
 * The stack outputs, as `pulumi stack output --json` prints them: what a client needs to reach the
 * stack. `index.ts` exports exactly these. Tooling and the web client import this file, never
 * `index.ts`: importing the program runs it.
 */
export interface StackOutputs {
    /** The stack's AWS region. */
    region: string;
    /** The Cognito User Pool people sign up and sign in to. */
    userPoolId: string;
    /** The User Pool's app client (no secret) that clients sign in with. */
    userPoolClientId: string;
    /** The Identity Pool that exchanges the User Pool's id tokens for AWS credentials. */
    identityPoolId: string;
    /** The HTTP API's invoke URL. */
    apiUrl: string;
    /** The uploads bucket; files go under `private/<identity id>/`. */
    bucketName: string;
    /** The notes table (for operators; no client reads it). */
    tableName: string;
    /** The hosted web client (`https://<distribution>.cloudfront.net/` or the custom domain); absent when `site` is false. */
    siteUrl?: string;
    /**
     * Sign-in through other providers: exactly Amplify's `Auth.Cognito.loginWith.oauth`, plus the
     * providers' names for the buttons. Only when the stack configures `identityProviders`.
     */
    oauth?: OAuthOutput;
}

/** Amplify JS v6's `loginWith.oauth` (authorization code flow) and the providers to offer. */
export interface OAuthOutput {
    /** The managed-login host (`<prefix>.auth.<region>.amazoncognito.com` or the custom domain), no scheme. */
    domain: string;
    scopes: string[];
    redirectSignIn: string[];
    redirectSignOut: string[];
    responseType: "code";
    /** The providers' names in the User Pool (`Google`, `SignInWithApple`, an OIDC provider's name…). */
    providers: string[];
}

/** Every output's name, in the order `index.ts` exports them (a test keeps the two equal). */
export const STACK_OUTPUT_NAMES = [
    "region",
    "userPoolId",
    "userPoolClientId",
    "identityPoolId",
    "apiUrl",
    "bucketName",
    "tableName",
    "siteUrl",
    "oauth",
] as const satisfies readonly (keyof StackOutputs)[];

/**
 * The outputs a stack may leave out: `siteUrl` with `site: false` (as the local cloud runs it),
 * `oauth` without `identityProviders`.
 */
export const OPTIONAL_STACK_OUTPUT_NAMES = ["siteUrl", "oauth"] as const satisfies readonly (keyof StackOutputs)[];
