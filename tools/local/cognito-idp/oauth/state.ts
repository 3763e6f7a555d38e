import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { CognitoIdpError } from "../rules";

/** An app client's OAuth settings (`aws:cognito/userPoolClient:UserPoolClient`). */
export interface OAuthClient {
    clientId: string;
    userPoolId: string;
    flows: string[];
    scopes: string[];
    callbackUrls: string[];
    logoutUrls: string[];
    /** `COGNITO` and the provider names. */
    providers: string[];
}

/** A provider as the program declared it (`aws:cognito/identityProvider:IdentityProvider`). */
export interface FederatedProvider {
    userPoolId: string;
    providerName: string;
    providerType: string;
    /** `client_id`, `client_secret` (or Apple's `private_key`), `authorize_scopes`, … */
    details: Record<string, string>;
    attributeMapping: Record<string, string>;
    /** The local stand-in's issuer that answers for it. */
    issuer: string;
}

/**
 * What the managed login needs of the stack's sign-in settings, filled by the provisioners, plus
 * the provider links `AdminLinkProviderForUser` makes (kept in `<data-dir>/cognito/links.json`).
 */
export class FederationState {
    readonly clients = new Map<string, OAuthClient>();
    /** `<pool id>|<provider name>` -> provider. */
    readonly providers = new Map<string, FederatedProvider>();
    /** Pool id -> its pre sign-up function's ARN. */
    readonly preSignUp = new Map<string, string>();
    /** Pool ids with a managed-login domain. */
    readonly domains = new Set<string>();
    /** `<pool id>|<provider name>|<provider user id>` -> the linked User Pool username. */
    private links: Record<string, string> = {};
    private file?: string;

    load(file: string): void {
        this.file = file;
        if (existsSync(file)) this.links = JSON.parse(readFileSync(file, "utf8"));
    }

    provider(userPoolId: string, providerName: string): FederatedProvider | undefined {
        return this.providers.get(`${userPoolId}|${providerName}`);
    }

    linkedUser(userPoolId: string, providerName: string, providerUserId: string): string | undefined {
        return this.links[`${userPoolId}|${providerName.toLowerCase()}|${providerUserId}`];
    }

    /**
     * `AdminLinkProviderForUser`, as Cognito validates it: the destination is a Cognito user that
     * exists, the source a provider of this pool by its subject; a provider identity links once.
     */
    async run(operation: string, input: Record<string, any>, userExists: (userPoolId: string, username: string) => Promise<boolean>): Promise<{ output: unknown } | undefined> {
        if (operation !== "AdminLinkProviderForUser") return undefined;
        const { UserPoolId: poolId, DestinationUser: destination, SourceUser: source } = input;
        if (typeof poolId !== "string" || !destination || !source) throw new CognitoIdpError("InvalidParameterException", "UserPoolId, DestinationUser and SourceUser are required.");
        if (destination.ProviderName !== "Cognito" || typeof destination.ProviderAttributeValue !== "string") {
            throw new CognitoIdpError("InvalidParameterException", "DestinationUser must be a Cognito user (ProviderName Cognito).");
        }
        const provider = typeof source.ProviderName === "string" ? this.provider(poolId, source.ProviderName) : undefined;
        if (!provider) throw new CognitoIdpError("InvalidParameterException", `SourceUser.ProviderName ${String(source.ProviderName)} is not an identity provider of ${poolId}.`);
        if (source.ProviderAttributeName !== "Cognito_Subject" || typeof source.ProviderAttributeValue !== "string" || source.ProviderAttributeValue === "") {
            throw new CognitoIdpError("InvalidParameterException", "SourceUser must name the provider's subject (ProviderAttributeName Cognito_Subject).");
        }
        if (!(await userExists(poolId, destination.ProviderAttributeValue))) throw new CognitoIdpError("UserNotFoundException", "User does not exist.");
        const key = `${poolId}|${provider.providerName.toLowerCase()}|${source.ProviderAttributeValue}`;
        if (this.links[key] && this.links[key] !== destination.ProviderAttributeValue) throw new CognitoIdpError("AliasExistsException", "The source user is already linked to another user.");
        this.links[key] = destination.ProviderAttributeValue;
        if (this.file) {
            writeFileSync(`${this.file}.tmp`, JSON.stringify(this.links), { mode: 0o600 });
            renameSync(`${this.file}.tmp`, this.file);
        }
        return { output: {} };
    }
}
