import { CognitoIdentityClient, DescribeIdentityCommand, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { AdminGetUserCommand, CognitoIdentityProviderClient, SetUserPoolMfaConfigCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { totpCode } from "../../tools/local/cognito-idp/totp";
import type { LocalCloudProcess } from "../../tools/local/process";

const STEP_MS = 30_000;

/**
 * An authenticator app, as the tests play it: RFC 6238 codes (the local cloud's own helper) for
 * time steps after the last one used, since Cognito refuses a code of a step it has accepted
 * already. A code may be one step ahead of the clock (Cognito's window); further ahead, it waits.
 */
export class Authenticator {
    /** The last time step a code was accepted for. */
    lastStep = -Infinity;

    constructor(readonly secret: string) {}

    /** A code not used before; records its step as used. */
    async nextCode(): Promise<string> {
        for (;;) {
            const now = Math.floor(Date.now() / STEP_MS);
            const step = Math.max(now, this.lastStep + 1);
            if (step <= now + 1) {
                this.lastStep = step;
                return totpCode(this.secret, step * STEP_MS);
            }
            await new Promise((resolve) => setTimeout(resolve, (step - 1) * STEP_MS - Date.now() + 100));
        }
    }

    /** The code of the last step used (refused as used while that step is inside the window). */
    usedCode(): string {
        return totpCode(this.secret, this.lastStep * STEP_MS);
    }
}

/** What the local cloud's admin key sees of one identity's data: notes, objects, object versions. */
export interface DataSnapshot {
    items: unknown[];
    /** Key → content (base64) of the current objects. */
    objects: Record<string, string>;
    /** Every version and delete marker under the prefix: `key@versionId` → content (base64) or "delete marker". */
    versions: Record<string, string>;
}

/**
 * The operator's view with the local admin key (`<data-dir>/admin-credentials.json`), which may
 * call every S3, DynamoDB and Identity action and the User Pools' admin actions.
 */
export class AdminView {
    private readonly dynamo: DynamoDBClient;
    private readonly s3: S3Client;
    private readonly identity: CognitoIdentityClient;
    private readonly idp: CognitoIdentityProviderClient;

    constructor(private readonly cloud: LocalCloudProcess) {
        const { region, endpoints } = cloud.outputs;
        const credentials = cloud.adminCredentials;
        this.dynamo = new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials });
        this.s3 = new S3Client({ region, endpoint: endpoints.s3, forcePathStyle: true, credentials, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
        this.identity = new CognitoIdentityClient({ region, endpoint: endpoints.cognitoIdentity, credentials });
        this.idp = new CognitoIdentityProviderClient({ region, endpoint: endpoints.cognitoIdp, credentials });
    }

    /** Notes, objects and (in a versioned bucket) every version of one identity, with contents. */
    async snapshot(identityId: string, versioned: boolean): Promise<DataSnapshot> {
        const { tableName, bucketName } = this.cloud.outputs;
        const prefix = `private/${identityId}/`;
        const { Items = [] } = await this.dynamo.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": { S: identityId } } }));
        const read = async (Key: string, VersionId?: string) =>
            Buffer.from(await (await this.s3.send(new GetObjectCommand({ Bucket: bucketName, Key, VersionId }))).Body!.transformToByteArray()).toString("base64");
        const objects: Record<string, string> = {};
        const { Contents = [] } = await this.s3.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix }));
        for (const { Key } of Contents) objects[Key!] = await read(Key!);
        const versions: Record<string, string> = {};
        if (versioned) {
            const listed = await this.s3.send(new ListObjectVersionsCommand({ Bucket: bucketName, Prefix: prefix }));
            for (const { Key, VersionId } of listed.Versions ?? []) versions[`${Key}@${VersionId}`] = await read(Key!, VersionId);
            for (const { Key, VersionId } of listed.DeleteMarkers ?? []) versions[`${Key}@${VersionId}`] = "delete marker";
        }
        return { items: Items, objects, versions };
    }

    /** The identity (`userId`) whose note holds `content`, found with a scan of the table. */
    async ownerOfNote(content: string): Promise<string | undefined> {
        const { Items = [] } = await this.dynamo.send(new ScanCommand({ TableName: this.cloud.outputs.tableName, FilterExpression: "content = :c", ExpressionAttributeValues: { ":c": { S: content } } }));
        return Items.length === 1 ? Items[0].userId?.S : undefined;
    }

    /** Every object version and delete marker under the prefix, whatever the bucket's versioning. */
    async versionsUnder(identityId: string): Promise<string[]> {
        const listed = await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.cloud.outputs.bucketName, Prefix: `private/${identityId}/` }));
        return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`);
    }

    /** The error DescribeIdentity answers for the identity, or "exists". */
    async identityState(identityId: string): Promise<string> {
        return this.identity.send(new DescribeIdentityCommand({ IdentityId: identityId })).then(
            () => "exists",
            (error: Error) => error.name,
        );
    }

    /** Makes the User Pool require TOTP at every sign-in, as the stack's `mfa: required` deploys it. */
    async requireMfa(): Promise<void> {
        await this.idp.send(new SetUserPoolMfaConfigCommand({ UserPoolId: this.cloud.outputs.userPoolId, MfaConfiguration: "ON", SoftwareTokenMfaConfiguration: { Enabled: true } }));
    }

    /** The error AdminGetUser answers for the username, or "exists". */
    async userState(username: string): Promise<string> {
        return this.idp.send(new AdminGetUserCommand({ UserPoolId: this.cloud.outputs.userPoolId, Username: username })).then(
            () => "exists",
            (error: Error) => error.name,
        );
    }

    /**
     * What the Identity Pool answers an id token, as Amplify asks (the `Logins` key is the token's
     * issuer without its scheme): "credentials", or the error's name.
     */
    async credentialsFor(idToken: string): Promise<string> {
        const { iss } = JSON.parse(Buffer.from(idToken.split(".")[1], "base64url").toString());
        const Logins = { [String(iss).replace(/^https?:\/\//, "")]: idToken };
        const identity = new CognitoIdentityClient({ region: this.cloud.outputs.region, endpoint: this.cloud.outputs.endpoints.cognitoIdentity });
        try {
            const { IdentityId } = await identity.send(new GetIdCommand({ IdentityPoolId: this.cloud.outputs.identityPoolId, Logins }));
            const { Credentials } = await identity.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins }));
            return Credentials?.AccessKeyId ? "credentials" : "none";
        } catch (error) {
            return (error as Error).name;
        }
    }
}
