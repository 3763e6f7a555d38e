import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { COGNITO_IDENTITY_SUB, policyJson } from "../lib/iam";
import type { OAuthOutput } from "../outputs";
import * as federation from "./federation";

export interface NotesAuthArgs {
    /** execute-api ARNs of the API's routes: the only API calls signed-in users may make. */
    apiRouteArns: pulumi.Input<string>[];
    /** ARN of the uploads bucket; users reach only `private/<their identity id>/` in it. */
    bucketArn: pulumi.Input<string>;
    /**
     * Minimum password length (lowercase, uppercase and digits are always required).
     * Fed by `passwordMinimumLength` (default in Pulumi.yaml, like every setting below).
     */
    passwordMinimumLength: number;
    /** Passwords must also contain a symbol. Fed by `passwordRequireSymbols`. */
    passwordRequireSymbols: boolean;
    /**
     * Also allow USER_PASSWORD_AUTH (the password sent to Cognito over TLS instead of SRP).
     * Weaker, so opt-in; the local cloud turns it on because cognito-local has no SRP.
     * Fed by `allowUserPasswordAuth`.
     */
    allowUserPasswordAuth: boolean;
    /** Refuse to delete the User Pool while this is on. Fed by `deletionProtection`. */
    deletionProtection: boolean;
    /**
     * Keep the User Pool (the accounts) and the Identity Pool (the identity ids every note and
     * file is keyed by) in AWS when they leave the stack. Fed by `retainOnDelete`.
     */
    retainOnDelete: boolean;
    /** The User Pool's feature plan: `LITE`, `ESSENTIALS` or `PLUS`. Fed by `userPoolTier`. */
    userPoolTier: string;
    /**
     * Send Cognito's emails through this SES identity (ARN of a verified address or domain) with
     * `emailSendingAccount: DEVELOPER`. Fed by `emailSourceArn`; unset, Cognito's default sender,
     * limited to a small daily quota, sends them.
     */
    emailSourceArn?: string;
    /** Sender of those emails (`address` or `Name <address>`). Fed by `emailFrom`; needs `emailSourceArn`. */
    emailFrom?: string;
    /**
     * Second factor by authenticator app (TOTP): `off`, `optional` (each user may turn it on) or
     * `required` (every user sets it up at first sign-in). Fed by `mfa`.
     */
    mfa: "off" | "optional" | "required";
    /**
     * Sign-in through Google, Apple, Facebook, Amazon or OIDC providers (managed login, OAuth 2.0
     * code flow, account linking on verified email). Fed by `identityProviders`,
     * `identityProviderSecrets`, `authDomainPrefix` and `authCustomDomain`; absent: email and
     * password only, no domain, no OAuth on the client.
     */
    federation?: federation.FederationArgs;
}

/** The User Pool's `MfaConfiguration` for each `mfa` setting. */
const MFA_CONFIGURATION = { off: "OFF", optional: "OPTIONAL", required: "ON" } as const;

/**
 * What the web client may read and change of a user. `email_verified` is Cognito's to set; a
 * client allowed to write it could mark any address verified.
 */
const CLIENT_READ_ATTRIBUTES = ["email", "email_verified"];
const CLIENT_WRITE_ATTRIBUTES = ["email"];

/**
 * With sign-in providers, Cognito writes each provider's mapped attributes at every federated
 * sign-in through the app client, so the client must be allowed to read and write them ("If your
 * app client does not have write access to a mapped attribute, Amazon Cognito throws an error",
 * `WriteAttributes` in the User Pools API). `email_verified` then becomes writable too; a changed
 * email still waits for its code (`attributesRequireVerificationBeforeUpdate`), and an unconfirmed
 * user has no token to write with.
 */
function clientAttributes(args: federation.FederationArgs | undefined): Pick<aws.cognito.UserPoolClientArgs, "readAttributes" | "writeAttributes"> {
    if (!args) return {};
    const mapped = args.providers.flatMap((provider) => Object.keys(provider.kind.attributeMapping)).filter((attribute) => attribute !== "username");
    return {
        readAttributes: [...new Set([...CLIENT_READ_ATTRIBUTES, ...mapped])].sort(),
        writeAttributes: [...new Set([...CLIENT_WRITE_ATTRIBUTES, ...mapped])].sort(),
    };
}

/**
 * The Identity Pool's name. Every note and file is keyed by an identity id of this pool, and the
 * name cannot change without replacing the pool (`identity_pool_name` is ForceNew in the AWS
 * provider), so it depends on nothing a rename could change: not the project, the stack or the
 * component name. Names need not be unique; the pool's id is its identity.
 */
const IDENTITY_POOL_NAME = "notes users";

/** The verification email users get when the pool sends through SES. */
const VERIFICATION_EMAIL = {
    subject: "Your Notes verification code",
    message: "Welcome to Notes. Your verification code is {####}. Enter it in the app to finish signing up.",
};

/** Cognito's principal for web-identity federation through an Identity Pool. */
const COGNITO_IDENTITY = "cognito-identity.amazonaws.com";

/**
 * Sign-up and sign-in (Cognito User Pool with email and password), and the exchange of a sign-in
 * for short-lived AWS credentials (Identity Pool) of a role that may call this API and reach the
 * caller's own files, nothing else.
 */
export class NotesAuth extends pulumi.ComponentResource {
    readonly userPool: aws.cognito.UserPool;
    readonly client: aws.cognito.UserPoolClient;
    readonly identityPool: aws.cognito.IdentityPool;
    readonly authenticatedRole: aws.iam.Role;
    readonly userPoolId: pulumi.Output<string>;
    readonly userPoolClientId: pulumi.Output<string>;
    readonly identityPoolId: pulumi.Output<string>;
    /** Amplify's `loginWith.oauth` and the providers, when `federation` is set. */
    readonly oauth?: pulumi.Output<OAuthOutput>;
    /** The functions this component deploys (the pre sign-up trigger when `federation` is set), for NotesMonitoring. */
    readonly functions: federation.LinkingFunction[];

    constructor(name: string, args: NotesAuthArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notes:auth:NotesAuth", name, {}, opts);
        if (args.emailFrom !== undefined && args.emailSourceArn === undefined) {
            throw new Error(`NotesAuth ${name}: emailFrom needs emailSourceArn (Cognito's default sender has a fixed address).`);
        }

        const linking = args.federation && federation.createLinkingFunction(this, name, args.federation);
        this.functions = linking ? [linking] : [];
        this.userPool = this.createUserPool(name, args, linking?.function);
        let oauthSettings: Partial<aws.cognito.UserPoolClientArgs> = {};
        if (args.federation && linking) {
            federation.grantLinking(this, name, this.userPool, linking);
            const providers = federation.createIdentityProviders(this, name, this.userPool, args.federation);
            const domains = federation.createDomains(this, name, this.userPool, args.federation);
            oauthSettings = federation.oauthClientSettings(args.federation, providers);
            this.oauth = federation.oauthOutput(args.federation, domains);
        }
        this.client = this.createClient(name, args.allowUserPasswordAuth, { ...clientAttributes(args.federation), ...oauthSettings });
        this.identityPool = this.createIdentityPool(name, args.retainOnDelete);
        this.authenticatedRole = this.createAuthenticatedRole(name, args);
        new aws.cognito.IdentityPoolRoleAttachment(
            `${name}-role-attachment`,
            { identityPoolId: this.identityPool.id, roles: { authenticated: this.authenticatedRole.arn } },
            { parent: this },
        );

        this.userPoolId = this.userPool.id;
        this.userPoolClientId = this.client.id;
        this.identityPoolId = this.identityPool.id;
        this.registerOutputs({
            userPoolId: this.userPoolId,
            userPoolClientId: this.userPoolClientId,
            identityPoolId: this.identityPoolId,
            authenticatedRoleArn: this.authenticatedRole.arn,
            oauth: this.oauth,
        });
    }

    private createUserPool(name: string, args: NotesAuthArgs, preSignUp?: aws.lambda.Function): aws.cognito.UserPool {
        return new aws.cognito.UserPool(
            `${name}-users`,
            {
                usernameAttributes: ["email"],
                usernameConfiguration: { caseSensitive: false },
                autoVerifiedAttributes: ["email"],
                // Cognito takes a custom email subject and message only with emailSendingAccount
                // DEVELOPER (VerificationMessageTemplateType); its default sender sends its own text.
                verificationMessageTemplate: args.emailSourceArn
                    ? { defaultEmailOption: "CONFIRM_WITH_CODE", emailSubject: VERIFICATION_EMAIL.subject, emailMessage: VERIFICATION_EMAIL.message }
                    : { defaultEmailOption: "CONFIRM_WITH_CODE" },
                passwordPolicy: {
                    minimumLength: args.passwordMinimumLength,
                    requireLowercase: true,
                    requireUppercase: true,
                    requireNumbers: true,
                    requireSymbols: args.passwordRequireSymbols,
                    temporaryPasswordValidityDays: 3,
                },
                accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
                // A changed email takes effect only once the code sent to it is confirmed: until
                // then users sign in with the old address, so a typo cannot lock them out.
                userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdates: ["email"] },
                // TOTP only: every feature plan has it. SMS needs an SNS role and per-message
                // charges, email MFA the ESSENTIALS plan (docs/production.md). Cognito takes no
                // software-token block when MFA is off.
                mfaConfiguration: MFA_CONFIGURATION[args.mfa],
                ...(args.mfa === "off" ? {} : { softwareTokenMfaConfiguration: { enabled: true } }),
                adminCreateUserConfig: { allowAdminCreateUserOnly: false },
                deletionProtection: args.deletionProtection ? "ACTIVE" : "INACTIVE",
                userPoolTier: args.userPoolTier,
                // Stated even for the default sender: the provider ignores a missing block, so a stack
                // that drops SES would otherwise keep sending through it.
                emailConfiguration: args.emailSourceArn
                    ? { emailSendingAccount: "DEVELOPER", sourceArn: args.emailSourceArn, fromEmailAddress: args.emailFrom }
                    : { emailSendingAccount: "COGNITO_DEFAULT" },
                ...(preSignUp && { lambdaConfig: { preSignUp: preSignUp.arn } }),
            },
            { parent: this, retainOnDelete: args.retainOnDelete },
        );
    }

    private createClient(name: string, allowUserPasswordAuth: boolean, oauthSettings: Partial<aws.cognito.UserPoolClientArgs>): aws.cognito.UserPoolClient {
        return new aws.cognito.UserPoolClient(
            `${name}-web-client`,
            {
                userPoolId: this.userPool.id,
                // A browser cannot keep a secret.
                generateSecret: false,
                explicitAuthFlows: [
                    "ALLOW_USER_SRP_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH",
                    ...(allowUserPasswordAuth ? ["ALLOW_USER_PASSWORD_AUTH"] : []),
                ],
                preventUserExistenceErrors: "ENABLED",
                enableTokenRevocation: true,
                readAttributes: CLIENT_READ_ATTRIBUTES,
                writeAttributes: CLIENT_WRITE_ATTRIBUTES,
                supportedIdentityProviders: ["COGNITO"],
                ...oauthSettings,
            },
            { parent: this },
        );
    }

    private createIdentityPool(name: string, retainOnDelete: boolean): aws.cognito.IdentityPool {
        return new aws.cognito.IdentityPool(
            `${name}-identities`,
            {
                identityPoolName: IDENTITY_POOL_NAME,
                allowUnauthenticatedIdentities: false,
                allowClassicFlow: false,
                cognitoIdentityProviders: [
                    {
                        providerName: this.userPool.endpoint,
                        clientId: this.client.id,
                        // Ask the User Pool whether the token was revoked (signed out) before exchanging it.
                        serverSideTokenCheck: true,
                    },
                ],
            },
            // ignoreChanges keeps pools created under an earlier name: a new name would replace them.
            { parent: this, retainOnDelete, ignoreChanges: ["identityPoolName"] },
        );
    }

    private createAuthenticatedRole(name: string, args: NotesAuthArgs): aws.iam.Role {
        const role = new aws.iam.Role(
            `${name}-authenticated`,
            {
                description: "Signed-in notes users: this API's routes and their own private/<identity id>/ files",
                assumeRolePolicy: policyJson([
                    {
                        Effect: "Allow",
                        Principal: { Federated: COGNITO_IDENTITY },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: {
                            StringEquals: { [`${COGNITO_IDENTITY}:aud`]: this.identityPool.id },
                            "ForAnyValue:StringLike": { [`${COGNITO_IDENTITY}:amr`]: "authenticated" },
                        },
                    },
                ]),
            },
            { parent: this },
        );
        const ownPrefix = `private/${COGNITO_IDENTITY_SUB}/`;
        new aws.iam.RolePolicy(
            `${name}-authenticated-policy`,
            {
                role: role.id,
                policy: policyJson([
                    { Sid: "InvokeNotesApi", Effect: "Allow", Action: "execute-api:Invoke", Resource: args.apiRouteArns },
                    {
                        Sid: "OwnFiles",
                        Effect: "Allow",
                        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        Resource: pulumi.interpolate`${args.bucketArn}/${ownPrefix}*`,
                    },
                    {
                        // Amplify's cancel() aborts an upload and a resumed upload lists its parts;
                        // both act on an object key, so the same prefix scopes them.
                        Sid: "OwnMultipartUploads",
                        Effect: "Allow",
                        Action: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                        Resource: pulumi.interpolate`${args.bucketArn}/${ownPrefix}*`,
                    },
                    {
                        Sid: "ListOwnFiles",
                        Effect: "Allow",
                        Action: "s3:ListBucket",
                        Resource: args.bucketArn,
                        Condition: { StringLike: { "s3:prefix": [ownPrefix, `${ownPrefix}*`] } },
                    },
                ]),
            },
            { parent: this },
        );
        return role;
    }
}
