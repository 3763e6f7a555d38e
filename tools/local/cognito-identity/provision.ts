import { randomUUID } from "node:crypto";
import type { Provisioner } from "../provisioner";

/**
 * `aws:cognito/identityPool:IdentityPool`: the pool with its User Pool providers, under an id in
 * AWS's `<region>:<uuid>` format that survives restarts (every identity id hangs on it).
 */
export const identityPool: Provisioner = async (resource, services) => {
    const { name, inputs, urn } = resource;
    const { region, accountId } = services.registry;
    const identity = await services.identity();
    const id = services.ids.get(urn) ?? `${region}:${randomUUID()}`;
    services.ids.set(urn, id);
    identity.putPool({
        id,
        name: inputs.identityPoolName ?? name,
        allowUnauthenticatedIdentities: Boolean(inputs.allowUnauthenticatedIdentities),
        providers: (inputs.cognitoIdentityProviders ?? []).map((p: any) => ({ providerName: p.providerName, clientId: p.clientId, serverSideTokenCheck: p.serverSideTokenCheck === true })),
        roles: {},
    });
    if (inputs.allowUnauthenticatedIdentities) services.notEmulated(resource, "unauthenticated identities are not issued locally");
    if (inputs.supportedLoginProviders || inputs.openIdConnectProviderArns?.length || inputs.samlProviderArns?.length || inputs.developerProviderName) {
        services.notEmulated(resource, "only Cognito User Pool logins are verified locally; other providers are refused");
    }
    return { id, state: { arn: `arn:aws:cognito-identity:${region}:${accountId}:identitypool/${id}` } };
};

/** `aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment`: the roles identities get (no role mappings). */
export const roleAttachment: Provisioner = async ({ name, inputs }, services) => {
    const identity = await services.identity();
    if (inputs.roleMappings?.length) throw new Error(`IdentityPoolRoleAttachment ${name}: role mappings (rules/token roles) are not emulated locally.`);
    identity.setRoles(inputs.identityPoolId, { authenticated: inputs.roles?.authenticated, unauthenticated: inputs.roles?.unauthenticated });
    return undefined;
};
