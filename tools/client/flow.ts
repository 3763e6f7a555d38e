import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { AdminConfirmSignUpCommand, AdminDeleteUserCommand, CognitoIdentityProviderClient, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes, randomUUID } from "node:crypto";
import { ClientCredentials, signedFetch, SimpleResponse } from "./client";
import type { StackOutputs } from "../../outputs";
import type { LocalEndpoints } from "../local/outputs";

/**
 * Where the flow runs: the stack outputs, plus local endpoints when it is the local cloud
 * (`.local/outputs.json`); a deployed stack has no `endpoints` (and the flow needs no table name).
 */
export type FlowTarget = Omit<StackOutputs, "tableName"> & { endpoints?: LocalEndpoints };

/** A signed-in user with Identity Pool credentials. */
export interface FlowUser {
    email: string;
    idToken: string;
    identityId: string;
    credentials: ClientCredentials;
}

/** Thrown by a step whose outcome is not what the contract says. */
export class FlowFailure extends Error {}

export function check(condition: unknown, message: string): asserts condition {
    if (!condition) throw new FlowFailure(message);
}

function expectStatus(response: SimpleResponse, status: number, what: string): void {
    check(response.status === status, `${what}: expected HTTP ${status}, got ${response.status} ${response.text.slice(0, 300)}`);
}

/** A password that satisfies the strictest stack's policy (14+, upper, lower, digit, symbol). */
export function newPassword(): string {
    return `Nt-${randomBytes(9).toString("base64url")}!a9Z`;
}

export interface NotesClientOptions {
    /**
     * Credentials for the User Pool's admin actions (AdminConfirmSignUp, AdminDeleteUser). Locally:
     * the data directory's admin key (`readAdminCredentials(dataDir)` from `tools/local/keys.ts`); against
     * AWS: omit, and the SDK's default credential chain (the operator's) is used.
     */
    adminCredentials?: ClientCredentials;
}

/** The tokens of a sign-in. */
export interface SignInTokens {
    idToken: string;
    accessToken: string;
    refreshToken: string;
}

/**
 * Signs in with USER_SRP_AUTH as a browser does, with amazon-cognito-identity-js's own SRP code;
 * `endpoint` is the local User Pools' (omit it for AWS). Fails with Cognito's error, or with
 * `MfaRequired` when the user has a second factor (sign in through Amplify for that).
 */
export function srpSignIn(pool: { userPoolId: string; userPoolClientId: string; endpoint?: string }, email: string, password: string): Promise<SignInTokens> {
    const { AuthenticationDetails, CognitoUser, CognitoUserPool } = require("amazon-cognito-identity-js") as typeof import("amazon-cognito-identity-js");
    const userPool = new CognitoUserPool({ UserPoolId: pool.userPoolId, ClientId: pool.userPoolClientId, ...(pool.endpoint ? { endpoint: `${pool.endpoint.replace(/\/$/, "")}/` } : {}) });
    const user = new CognitoUser({ Username: email, Pool: userPool });
    const second = (name: string) => () => Object.assign(new Error(`${email} has a second factor (${name}); sign in through Amplify to answer it.`), { name: "MfaRequired" });
    return new Promise((resolve, reject) =>
        user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
            onSuccess: (session) => resolve({ idToken: session.getIdToken().getJwtToken(), accessToken: session.getAccessToken().getJwtToken(), refreshToken: session.getRefreshToken().getToken() }),
            onFailure: reject,
            totpRequired: () => reject(second("SOFTWARE_TOKEN_MFA")()),
            mfaRequired: () => reject(second("SMS_MFA")()),
            mfaSetup: () => reject(second("MFA_SETUP")()),
            newPasswordRequired: () => reject(Object.assign(new Error(`${email} must set a new password`), { name: "NewPasswordRequired" })),
        }),
    );
}

/**
 * The client side of the product, as a web app uses it: Cognito sign-up and sign-in, Identity
 * Pool credentials, SigV4-signed API calls and S3 access with the caller's own credentials.
 * It signs in with SRP (amazon-cognito-identity-js), locally as on AWS, and confirms with
 * AdminConfirmSignUp signed with the local admin key, or against AWS with the operator's credentials.
 */
export class NotesClient {
    private readonly idp: CognitoIdentityProviderClient;
    private readonly identity: CognitoIdentityClient;
    readonly local: boolean;

    constructor(
        readonly target: FlowTarget,
        options: NotesClientOptions = {},
    ) {
        this.local = target.endpoints !== undefined;
        if (this.local && !options.adminCredentials) {
            throw new Error("A local target needs the local admin credentials (readAdminCredentials(<data-dir>) from tools/local/keys.ts): the local User Pools refuse unsigned admin actions.");
        }
        this.idp = new CognitoIdentityProviderClient({
            region: target.region,
            ...(this.local ? { endpoint: target.endpoints!.cognitoIdp } : {}),
            ...(options.adminCredentials ? { credentials: options.adminCredentials } : {}),
        });
        // GetId and GetCredentialsForIdentity are unsigned operations; the SDK signs nothing for them.
        this.identity = new CognitoIdentityClient({
            region: target.region,
            ...(this.local ? { endpoint: target.endpoints!.cognitoIdentity } : {}),
        });
    }

    async signUp(email: string, password: string): Promise<void> {
        await this.idp.send(new SignUpCommand({ ClientId: this.target.userPoolClientId, Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] }));
    }

    async confirm(email: string): Promise<void> {
        await this.idp.send(new AdminConfirmSignUpCommand({ UserPoolId: this.target.userPoolId, Username: email }));
    }

    async deleteUser(email: string): Promise<void> {
        await this.idp.send(new AdminDeleteUserCommand({ UserPoolId: this.target.userPoolId, Username: email }));
    }

    /** Returns the User Pool id token. */
    async logIn(email: string, password: string): Promise<string> {
        return (await srpSignIn({ ...this.target, endpoint: this.target.endpoints?.cognitoIdp }, email, password)).idToken;
    }

    /** The standard Logins key for this User Pool. */
    get loginsKey(): string {
        return `cognito-idp.${this.target.region}.amazonaws.com/${this.target.userPoolId}`;
    }

    async identityCredentials(idToken: string): Promise<{ identityId: string; credentials: ClientCredentials }> {
        const Logins = { [this.loginsKey]: idToken };
        const { IdentityId } = await this.identity.send(new GetIdCommand({ IdentityPoolId: this.target.identityPoolId, Logins }));
        check(IdentityId, "GetId returned no identity id");
        const { Credentials } = await this.identity.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins }));
        check(Credentials?.AccessKeyId && Credentials.SecretKey && Credentials.SessionToken, "GetCredentialsForIdentity returned no credentials");
        return { identityId: IdentityId, credentials: { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretKey, sessionToken: Credentials.SessionToken } };
    }

    /** Signs up, confirms, logs in and fetches identity credentials for a fresh user. */
    async newUser(prefix = "user"): Promise<FlowUser> {
        const email = `${prefix}-${Date.now()}-${randomBytes(3).toString("hex")}@example.com`;
        const password = newPassword();
        await this.signUp(email, password);
        await this.confirm(email);
        const idToken = await this.logIn(email, password);
        return { email, idToken, ...(await this.identityCredentials(idToken)) };
    }

    /** Calls the API, signed with the user's credentials (or unsigned with `user` undefined). */
    api(user: FlowUser | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<SimpleResponse> {
        const url = new URL(path.replace(/^\//, ""), this.target.apiUrl.endsWith("/") ? this.target.apiUrl : `${this.target.apiUrl}/`).toString();
        return signedFetch(url, {
            method,
            body: body === undefined ? undefined : JSON.stringify(body),
            headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
            credentials: user?.credentials,
            region: this.target.region,
        });
    }

    s3(user: FlowUser): S3Client {
        return new S3Client({
            region: this.target.region,
            credentials: user.credentials,
            ...(this.local ? { endpoint: this.target.endpoints!.s3, forcePathStyle: true } : {}),
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
        });
    }
}

export interface FlowStep {
    name: string;
    ms: number;
}

/**
 * The whole user flow the smoke command runs and the e2e tests reuse. Calls `onStep` after each
 * step with its duration; throws FlowFailure (or the SDK's error) at the first step that fails.
 */
export async function runUserFlow(target: FlowTarget, options: NotesClientOptions = {}, onStep: (step: FlowStep) => void = () => undefined): Promise<{ user: FlowUser; steps: FlowStep[] }> {
    const client = new NotesClient(target, options);
    const steps: FlowStep[] = [];
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        const started = process.hrtime.bigint();
        let result: T;
        try {
            result = await fn();
        } catch (error) {
            const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            throw new FlowFailure(`step "${name}" failed: ${detail}`);
        }
        const done = { name, ms: Number(process.hrtime.bigint() - started) / 1e6 };
        steps.push(done);
        onStep(done);
        return result;
    };

    const email = `smoke-${Date.now()}-${randomBytes(3).toString("hex")}@example.com`;
    const password = newPassword();
    await step("sign up", () => client.signUp(email, password));
    await step("confirm (AdminConfirmSignUp)", () => client.confirm(email));
    const idToken = await step("log in (SRP)", () => client.logIn(email, password));
    const { identityId, credentials } = await step("get identity credentials", () => client.identityCredentials(idToken));
    const user: FlowUser = { email, idToken, identityId, credentials };
    check(identityId.startsWith(`${target.region}:`), `identity id ${identityId} is not <region>:<uuid>`);

    const note = await step("POST /notes", async () => {
        const response = await client.api(user, "POST", "/notes", { content: "Hello from the smoke test" });
        expectStatus(response, 201, "POST /notes");
        return response.json<{ noteId: string; version: number }>();
    });
    const attachment = `private/${identityId}/smoke-${randomUUID()}.txt`;
    const fileText = `attachment for ${note.noteId}`;
    const s3 = client.s3(user);
    await step("upload attachment to own prefix (S3 PutObject)", () => s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: attachment, Body: fileText, ContentType: "text/plain" })));
    await step("PUT /notes/{id} (attach)", async () => {
        const response = await client.api(user, "PUT", `/notes/${note.noteId}`, { attachment });
        expectStatus(response, 200, "PUT /notes/{id}");
        check(response.json().attachment === attachment, "the updated note does not carry the attachment");
    });
    await step("GET /notes/{id}", async () => {
        const response = await client.api(user, "GET", `/notes/${note.noteId}`);
        expectStatus(response, 200, "GET /notes/{id}");
        const body = response.json();
        check(body.content === "Hello from the smoke test" && body.attachment === attachment, `GET returned ${response.text}`);
    });
    await step("GET /notes", async () => {
        const response = await client.api(user, "GET", "/notes");
        expectStatus(response, 200, "GET /notes");
        check(response.json().notes.some((n: { noteId: string }) => n.noteId === note.noteId), "the list does not contain the new note");
    });
    await step("read attachment back (S3 GetObject)", async () => {
        const object = await s3.send(new GetObjectCommand({ Bucket: target.bucketName, Key: attachment }));
        check((await object.Body!.transformToString()) === fileText, "the attachment came back different");
    });
    await step("another user's prefix is refused (S3 PutObject)", async () => {
        const foreign = `private/${target.region}:${randomUUID()}/intrusion.txt`;
        const refused = await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: foreign, Body: "x" })).then(
            () => false,
            (error) => error?.name === "AccessDenied" || error?.$metadata?.httpStatusCode === 403,
        );
        check(refused, `writing ${foreign} was not refused with 403 AccessDenied`);
    });
    await step("an unsigned request is refused", async () => {
        const response = await client.api(undefined, "GET", "/notes");
        expectStatus(response, 403, "unsigned GET /notes");
    });
    await step("DELETE /notes/{id}", async () => {
        const response = await client.api(user, "DELETE", `/notes/${note.noteId}`);
        check(response.status === 204 || response.status === 200, `DELETE /notes/{id}: got ${response.status} ${response.text}`);
        const gone = await client.api(user, "GET", `/notes/${note.noteId}`);
        expectStatus(gone, 404, "GET after DELETE");
    });
    await step("attachment removed with the note", async () => {
        const removed = await s3.send(new GetObjectCommand({ Bucket: target.bucketName, Key: attachment })).then(
            () => false,
            (error) => error?.name === "NoSuchKey" || error?.$metadata?.httpStatusCode === 404,
        );
        if (!removed) await s3.send(new DeleteObjectCommand({ Bucket: target.bucketName, Key: attachment }));
        check(removed, "the note's attachment is still in the bucket after DELETE /notes/{id}");
    });
    await step("delete the user (AdminDeleteUser)", () => client.deleteUser(email));
    return { user, steps };
}
