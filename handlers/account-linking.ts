/**
 * One person, one account: when someone signs in through a provider for the first time, and the
 * provider asserts a verified email that belongs to an existing, confirmed User Pool user, the
 * provider's identity is linked to that user (`AdminLinkProviderForUser`), who keeps their
 * identity id and their notes. Plain functions: the pre sign-up handler is glue around them.
 *
 * Never on an unverified email (that would hand the account to whoever typed the address at the
 * provider), never for a provider that asserts no verification (Facebook, Login with Amazon), and
 * never to a user whose own email is unverified: docs/threat-model.md, "One person, one account".
 */
import { AdminLinkProviderForUserCommand, ListUsersCommand, type UserType } from "@aws-sdk/client-cognito-identity-provider";
import type { Logger } from "./log";

/** The parts of Cognito's pre sign-up event the decision reads. */
export interface PreSignUpEvent {
    triggerSource: string;
    userPoolId: string;
    userName: string;
    request: { userAttributes: Record<string, string | undefined> };
}

export interface LinkingDeps {
    /** A Cognito Identity Provider client (only `send` is used). */
    client: { send(command: ListUsersCommand | AdminLinkProviderForUserCommand): Promise<unknown> };
    /** Provider names (as in the pool) whose `email_verified` is trusted for linking. */
    linkableProviders: readonly string[];
    log: Logger;
}

export type LinkDecision = { linked: true; provider: string; toUsername: string } | { linked: false; reason: string };

/** Addresses the ListUsers filter can carry safely (no quotes or backslashes). */
const SIMPLE_EMAIL = /^[^\s"\\@]+@[^\s"\\@]+$/;

/** The provider and its user id in a federated username (`Google_1234…`, `<oidc name>_<sub>`). */
export function parseFederatedUsername(userName: string): { provider: string; providerUserId: string } | undefined {
    const split = userName.indexOf("_");
    if (split <= 0 || split === userName.length - 1) return undefined;
    return { provider: userName.slice(0, split), providerUserId: userName.slice(split + 1) };
}

const attribute = (user: UserType, name: string) => user.Attributes?.find((entry) => entry.Name === name)?.Value;

/** Decides, and links when the rules allow it. */
export async function linkFederatedUser(deps: LinkingDeps, event: PreSignUpEvent): Promise<LinkDecision> {
    if (event.triggerSource !== "PreSignUp_ExternalProvider") return { linked: false, reason: "not a federated sign-up" };
    const parsed = parseFederatedUsername(event.userName);
    if (!parsed) return { linked: false, reason: "not a federated username" };
    const provider = deps.linkableProviders.find((name) => name.toLowerCase() === parsed.provider.toLowerCase());
    if (!provider) return { linked: false, reason: `${parsed.provider} does not assert verified emails` };
    const { email, email_verified: verified } = event.request.userAttributes;
    if (verified !== "true") return { linked: false, reason: "the provider did not assert a verified email" };
    if (!email || !SIMPLE_EMAIL.test(email)) return { linked: false, reason: "no usable email" };

    const listed = (await deps.client.send(new ListUsersCommand({ UserPoolId: event.userPoolId, Filter: `email = "${email}"` }))) as { Users?: UserType[] };
    const candidates = (listed.Users ?? []).filter(
        (user) =>
            user.UserStatus === "CONFIRMED" &&
            user.Enabled !== false &&
            attribute(user, "email_verified") === "true" &&
            attribute(user, "email")?.toLowerCase() === email.toLowerCase(),
    );
    if (candidates.length !== 1) {
        return { linked: false, reason: candidates.length === 0 ? "no confirmed user with this verified email" : "several users share this email" };
    }
    const target = candidates[0].Username!;
    await deps.client.send(
        new AdminLinkProviderForUserCommand({
            UserPoolId: event.userPoolId,
            DestinationUser: { ProviderName: "Cognito", ProviderAttributeValue: target },
            SourceUser: { ProviderName: provider, ProviderAttributeName: "Cognito_Subject", ProviderAttributeValue: parsed.providerUserId },
        }),
    );
    deps.log.info("linked a federated sign-in to an existing user", { provider, toUsername: target });
    return { linked: true, provider, toUsername: target };
}
