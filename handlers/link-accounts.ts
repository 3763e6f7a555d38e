/**
 * Cognito pre sign-up trigger: links a first federated sign-in to the existing user with the same
 * verified email (handlers/account-linking.ts decides). Returns the event unchanged, as Cognito
 * expects; an error (a failed Cognito call) fails the sign-in rather than create a second account.
 */
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { linkFederatedUser, type PreSignUpEvent } from "./account-linking";
import { requireEnv } from "./env";
import { createLogger, describeError } from "./log";

/** JSON list of the provider names whose verified emails may link (set by the program). */
const linkableProviders: string[] = JSON.parse(requireEnv("LINK_PROVIDERS"));
// Lambda puts the role's credentials in the environment (handlers/runtime/lambda-credentials.ts).
const client = new CognitoIdentityProviderClient({ credentials: fromEnv() });

export async function handler(event: PreSignUpEvent, context?: { awsRequestId?: string }): Promise<PreSignUpEvent> {
    const log = createLogger({ requestId: context?.awsRequestId, trigger: event.triggerSource });
    try {
        const decision = await linkFederatedUser({ client, linkableProviders, log }, event);
        if (!decision.linked) log.info("no account link", { reason: decision.reason });
    } catch (error) {
        log.error("account linking failed", { error: describeError(error) });
        throw new Error("Sign-in could not be completed; try again.");
    }
    return event;
}
