import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy } from "./define";
import { items } from "./util";

/**
 * AppSync API doors. A GraphQL API admits a caller through its `authenticationType` or through
 * any of its `additionalAuthenticationProviders`; an Event API through any of its auth providers,
 * on connect, publish and subscribe, and a channel namespace may override the publish and
 * subscribe modes. Each one must be AWS_IAM (SigV4): an API key identifies a client and signs
 * nothing, and Cognito, OIDC and Lambda tokens bypass the IAM roles the pack relies on.
 */
export const TYPES = {
    graphQlApi: ["aws:appsync/graphQLApi:GraphQLApi"],
    eventApi: ["aws:appsync/api:Api"],
    channelNamespace: ["aws:appsync/channelNamespace:ChannelNamespace"],
} as const;

const IAM = "AWS_IAM";
const apiKeyNote = (mode: string) => (mode.toUpperCase() === "API_KEY" ? " (an API key identifies a client; it does not authenticate a caller)" : "");

export const graphQlApiIamAuth: ResourceValidationPolicy = resourcePolicy({
    name: "appsync-graphql-iam-auth",
    description: "Checks that every AppSync GraphQL API authenticates callers with AWS_IAM only: its authenticationType and every additional authentication provider.",
    types: TYPES.graphQlApi,
    validate: (props, ctx) => {
        ctx.check("authenticationType", () => {
            const mode = String(props.authenticationType ?? "(none)");
            if (mode.toUpperCase() !== IAM) ctx.report(`AppSync GraphQL API ${ctx.name} must use authenticationType AWS_IAM, found ${mode}${apiKeyNote(mode)}.`);
        });
        ctx.check("additionalAuthenticationProviders", () => {
            items<Record<string, unknown>>(props.additionalAuthenticationProviders).forEach((provider, index) => {
                const mode = String(provider?.authenticationType ?? "(none)");
                if (mode.toUpperCase() !== IAM) {
                    ctx.report(`AppSync GraphQL API ${ctx.name} must accept only AWS_IAM: additionalAuthenticationProviders[${index}] is ${mode}${apiKeyNote(mode)}, and any one provider admits a caller.`);
                }
            });
        });
    },
});

/** Every `authType` of an Event API's `eventConfig` (a v7 object; a one-element list is read too). */
const EVENT_MODES = [
    ["authProviders", "an auth provider"],
    ["connectionAuthModes", "a connection auth mode"],
    ["defaultPublishAuthModes", "a default publish auth mode"],
    ["defaultSubscribeAuthModes", "a default subscribe auth mode"],
] as const;

const NAMESPACE_MODES = [
    ["publishAuthModes", "a publish auth mode"],
    ["subscribeAuthModes", "a subscribe auth mode"],
] as const;

export const eventApiIamAuth: ResourceValidationPolicy = resourcePolicy({
    name: "appsync-event-api-iam-auth",
    description: "Checks that every AppSync Event API, and every channel namespace that overrides its modes, authenticates connect, publish and subscribe with AWS_IAM only.",
    types: [...TYPES.eventApi, ...TYPES.channelNamespace],
    validate: (props, ctx) => {
        const namespace = ctx.type === TYPES.channelNamespace[0];
        const source = namespace ? props : items<Record<string, unknown>>(props.eventConfig)[0];
        const kind = namespace ? "AppSync channel namespace" : "AppSync Event API";
        if (!namespace && source === undefined) {
            ctx.report(`${kind} ${ctx.name} must declare eventConfig with AWS_IAM auth providers and modes, found none.`);
            return;
        }
        for (const [field, what] of namespace ? NAMESPACE_MODES : EVENT_MODES) {
            ctx.check(field, () => {
                items<Record<string, unknown>>((source as Record<string, unknown>)[field]).forEach((mode, index) => {
                    const authType = String(mode?.authType ?? "(none)");
                    if (authType.toUpperCase() !== IAM) ctx.report(`${kind} ${ctx.name} must use AWS_IAM only: ${field}[${index}], ${what}, is ${authType}${apiKeyNote(authType)}.`);
                });
            });
        }
    },
});

export const appSyncPolicies: ResourceValidationPolicy[] = [graphQlApiIamAuth, eventApiIamAuth];
