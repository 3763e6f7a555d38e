import type { DeclaredResource, LocalServices, Provisioner } from "../../provisioner";
import { localhostCertificate } from "./certificate";
import { LocalIdentityProviders } from "../../identity-providers/providers";
import { ManagedLogin, type PoolUsers } from "./managed-login";
import type { FederationState } from "./state";

/** The managed login and the providers' stand-ins, started with the first provider or domain the program declares. */
export interface LocalFederation {
    state: FederationState;
    managedLogin: ManagedLogin;
    identityProviders: LocalIdentityProviders;
    close(): Promise<void>;
}

export async function startFederation(options: {
    dataDir: string;
    state: FederationState;
    users: PoolUsers;
    registry: LocalServices["registry"];
    ports: { managedLogin: number; identityProviders: number };
    log?: (line: Record<string, unknown>) => void;
}): Promise<LocalFederation> {
    const managedLogin = new ManagedLogin({ state: options.state, users: options.users, registry: options.registry, tls: localhostCertificate(options.dataDir), log: options.log });
    const identityProviders = new LocalIdentityProviders(options.dataDir);
    await Promise.all([managedLogin.listen(options.ports.managedLogin), identityProviders.listen(options.ports.identityProviders)]);
    return {
        state: options.state,
        managedLogin,
        identityProviders,
        close: async () => {
            await Promise.all([managedLogin.close(), identityProviders.close()]);
        },
    };
}

const SPECIAL_SIG = "4dabf18193072939515e22adb298388d";

/** A value with Pulumi's secret wrappers removed (the mock engine keeps them in inputs). */
export function revealSecrets(value: any): any {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value === null || typeof value !== "object") return value;
    if (SPECIAL_SIG in value) return revealSecrets(value.value);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, revealSecrets(item)]));
}

/**
 * `aws:cognito/identityProvider:IdentityProvider`: a local stand-in for the provider (its own
 * issuer and key), registered with the provider's client id and secret, sending people back to
 * the managed login. The pool then signs people in through it as it would through the provider.
 */
export const identityProvider: Provisioner = async ({ inputs }: DeclaredResource, services: LocalServices) => {
    const federation = await services.federation();
    const details: Record<string, string> = revealSecrets(inputs.providerDetails) ?? {};
    const providerName = String(inputs.providerName);
    const issuer = await federation.identityProviders.register({
        providerName,
        clientId: details.client_id,
        clientSecret: details.client_secret ?? details.private_key ?? "",
        redirectUris: [federation.managedLogin.idpResponseUrl],
    });
    federation.state.providers.set(`${inputs.userPoolId}|${providerName}`, {
        userPoolId: inputs.userPoolId,
        providerName,
        providerType: String(inputs.providerType),
        details,
        attributeMapping: inputs.attributeMapping ?? {},
        issuer,
    });
    services.print(`[identity-providers] ${providerName} (${inputs.providerType}) stands in at ${issuer}`);
    return { id: `${inputs.userPoolId}:${providerName}` };
};

/** `aws:cognito/userPoolDomain:UserPoolDomain`: the pool's managed login, on the local TLS port whatever the domain. */
export const userPoolDomain: Provisioner = async ({ inputs }: DeclaredResource, services: LocalServices) => {
    const federation = await services.federation();
    federation.state.domains.add(String(inputs.userPoolId));
    services.print(`[managed-login] ${inputs.domain} is served at https://${federation.managedLogin.domain} (accept its certificate once: tools/local/README.md)`);
    return undefined;
};
