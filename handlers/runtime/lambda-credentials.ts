/**
 * Takes the place of `@aws-sdk/credential-provider-node` (the SDK's default credential chain) in
 * the handler bundles; `lib/bundle.ts` aliases the package to this file.
 *
 * Lambda always gives a function its role's credentials in the environment, and every client the
 * handlers build reads them with `fromEnv()`. The default chain (SSO, ini files, credential
 * processes, web identity, container and instance metadata, with the STS, SSO and sign-in clients
 * they need) would never run there, yet it made up more than a third of each bundle. A client
 * built without `credentials` gets this provider and fails with a message that says why.
 */
export const defaultProvider =
    (_init?: unknown) =>
    async (): Promise<never> => {
        throw new Error(
            "The handler bundles carry no default credential chain: build SDK clients with `credentials: fromEnv()` " +
                "(@aws-sdk/credential-provider-env); Lambda puts the function's credentials in the environment.",
        );
    };
