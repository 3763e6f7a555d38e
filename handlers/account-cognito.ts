/**
 * The account function's Cognito side: DeleteIdentities (Identity Pool) and AdminDeleteUser (User
 * Pool). Loaded only when the caller's notes and files are gone (account.ts); `lib/bundle.ts`
 * bundles this file on its own, into `account-cognito.js` beside `index.js`.
 */
import { CognitoIdentityClient, DeleteIdentitiesCommand } from "@aws-sdk/client-cognito-identity";
import { AdminDeleteUserCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import type { AccountDirectory } from "./erasure";

const SETTINGS = {
    credentials: fromEnv(),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true },
} as const;

/**
 * Region, credentials and the endpoints (`AWS_ENDPOINT_URL_COGNITO_IDENTITY`,
 * `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`) come from the function's environment.
 */
export function createAccountDirectory(userPoolId: string): AccountDirectory {
    const identities = new CognitoIdentityClient(SETTINGS);
    const users = new CognitoIdentityProviderClient(SETTINGS);
    return {
        async deleteIdentity(identityId) {
            let UnprocessedIdentityIds;
            try {
                ({ UnprocessedIdentityIds = [] } = await identities.send(new DeleteIdentitiesCommand({ IdentityIdsToDelete: [identityId] })));
            } catch (error) {
                // DeleteIdentities documents no not-found error; an emulator that answers one means the same: gone.
                if ((error as { name?: string }).name === "ResourceNotFoundException") return;
                throw error;
            }
            const failed = UnprocessedIdentityIds.find((entry) => entry.IdentityId === identityId);
            if (failed) {
                // DeleteIdentities reports AccessDenied or InternalServerError per identity; the
                // latter is worth a retry (503), the former is a broken deployment (500).
                const error = new Error(`DeleteIdentities left ${identityId}: ${failed.ErrorCode}`);
                if (failed.ErrorCode === "InternalServerError") Object.assign(error, { name: "InternalServerError" });
                throw error;
            }
        },
        async deleteUser(sub) {
            try {
                await users.send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: sub }));
            } catch (error) {
                // Gone already: an earlier call deleted it and stopped before answering.
                if ((error as { name?: string }).name !== "UserNotFoundException") throw error;
            }
        },
    };
}
