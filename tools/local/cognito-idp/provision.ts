import type { Provisioner } from "../provisioner";

/**
 * `aws:cognito/userPool:UserPool`: CreateUserPool with the declared sign-in attributes and password
 * policy, once; a restart finds the pool by its saved id. The MFA setting (`mfaConfiguration`,
 * `softwareTokenMfaConfiguration`) and `userAttributeUpdateSettings` are applied on every start.
 * Email through SES is not sent: codes print.
 */
export const userPool: Provisioner = async (resource, services) => {
    const { inputs, urn, state } = resource;
    const { userPools, registry, ids } = services;
    if (inputs.emailConfiguration?.emailSendingAccount === "DEVELOPER") {
        services.notEmulated(resource, `email through SES (${inputs.emailConfiguration.sourceArn}) is not sent: codes print to this console`);
    }
    let id = ids.get(urn);
    if (!id || !(await userPools.describePool(id))) {
        const pool = await userPools.call("CreateUserPool", {
            PoolName: inputs.name ?? state.name,
            UsernameAttributes: inputs.usernameAttributes,
            AliasAttributes: inputs.aliasAttributes,
            AutoVerifiedAttributes: inputs.autoVerifiedAttributes,
            UsernameConfiguration: inputs.usernameConfiguration ? { CaseSensitive: inputs.usernameConfiguration.caseSensitive } : undefined,
            Policies: inputs.passwordPolicy
                ? {
                      PasswordPolicy: {
                          MinimumLength: inputs.passwordPolicy.minimumLength,
                          RequireLowercase: inputs.passwordPolicy.requireLowercase,
                          RequireUppercase: inputs.passwordPolicy.requireUppercase,
                          RequireNumbers: inputs.passwordPolicy.requireNumbers,
                          RequireSymbols: inputs.passwordPolicy.requireSymbols,
                          TemporaryPasswordValidityDays: inputs.passwordPolicy.temporaryPasswordValidityDays,
                      },
                  }
                : undefined,
        });
        id = pool.UserPool.Id as string;
        ids.set(urn, id);
    }
    // As an update would: the declared MFA and email-change settings, on a new pool or one found again.
    await userPools.call("SetUserPoolMfaConfig", {
        UserPoolId: id,
        MfaConfiguration: inputs.mfaConfiguration ?? "OFF",
        SoftwareTokenMfaConfiguration: { Enabled: inputs.softwareTokenMfaConfiguration?.enabled === true },
    });
    await userPools.updatePool(id, {
        AutoVerifiedAttributes: inputs.autoVerifiedAttributes,
        UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: inputs.userAttributeUpdateSettings?.attributesRequireVerificationBeforeUpdates ?? [] },
    });
    // The pre sign-up trigger runs on a first federated sign-in (tools/local/cognito-idp/oauth).
    if (inputs.lambdaConfig?.preSignUp) registry.federation.preSignUp.set(id, String(inputs.lambdaConfig.preSignUp));
    const { region, accountId } = registry;
    return { id, state: { arn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${id}`, endpoint: `cognito-idp.${region}.amazonaws.com/${id}` } };
};

/**
 * `aws:cognito/userPoolClient:UserPoolClient`: CreateUserPoolClient once, then, as an update would,
 * the same client id with the program's auth flows and existence-error setting.
 */
export const userPoolClient: Provisioner = async ({ name, inputs, urn }, { userPools, ids, registry }) => {
    let id = ids.get(urn);
    const existing = id ? await userPools.call("DescribeUserPoolClient", { UserPoolId: inputs.userPoolId, ClientId: id }).catch(() => undefined) : undefined;
    const settings = { ExplicitAuthFlows: inputs.explicitAuthFlows, PreventUserExistenceErrors: inputs.preventUserExistenceErrors ?? "LEGACY" };
    if (existing) {
        await userPools.call("UpdateUserPoolClient", { UserPoolId: inputs.userPoolId, ClientId: id, ...settings });
    } else {
        if (inputs.generateSecret) throw new Error(`UserPoolClient ${name}: clients with a secret are not emulated locally.`);
        const client = await userPools.call("CreateUserPoolClient", { UserPoolId: inputs.userPoolId, ClientName: inputs.name ?? name, ...settings });
        id = client.UserPoolClient.ClientId as string;
        ids.set(urn, id);
    }
    // The managed login's view of the client: flows, scopes, exact callback and sign-out URLs, providers.
    if (inputs.allowedOauthFlowsUserPoolClient && (inputs.allowedOauthFlows ?? []).length > 0) {
        registry.federation.clients.set(id!, {
            clientId: id!,
            userPoolId: inputs.userPoolId,
            flows: inputs.allowedOauthFlows,
            scopes: inputs.allowedOauthScopes ?? [],
            callbackUrls: inputs.callbackUrls ?? [],
            logoutUrls: inputs.logoutUrls ?? [],
            providers: inputs.supportedIdentityProviders ?? ["COGNITO"],
        });
    }
    return { id };
};
