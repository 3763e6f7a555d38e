import type { ResourcesConfig } from "aws-amplify";
import type { WebClientConfig } from "./config";

/** The name the notes API is configured under in Amplify's `API.REST`. */
export const NOTES_API = "notes";

// README: the Amplify configuration (kept equal to the README's snippet by test/web/readme.test.ts).
/** The Amplify JS v6 configuration for a stack; sign in with `signIn({ ..., options: { authFlowType: config.authFlowType } })`. */
export function amplifyConfig(config: WebClientConfig): ResourcesConfig {
    return {
        Auth: {
            Cognito: {
                userPoolId: config.userPoolId,
                userPoolClientId: config.userPoolClientId,
                identityPoolId: config.identityPoolId,
                // With sign-in providers: the stack's `oauth` output, minus the buttons' provider list.
                loginWith: { email: true, ...(config.oauth && { oauth: { ...config.oauth, providers: undefined } }) },
                signUpVerificationMethod: "code",
                // Local cloud only (aws-amplify >= 6.15 for identityPoolEndpoint); AWS needs neither.
                ...(config.endpoints && { userPoolEndpoint: config.endpoints.cognitoIdp, identityPoolEndpoint: config.endpoints.cognitoIdentity }),
            },
        },
        // Every route is AWS_IAM: Amplify signs with the Identity Pool credentials (service execute-api).
        API: { REST: { [NOTES_API]: { endpoint: config.apiUrl.replace(/\/+$/, ""), region: config.region } } },
        // Files live under private/<identity id>/ (the only prefix the authenticated role may use).
        Storage: { S3: { bucket: config.bucketName, region: config.region } },
    };
}
// README: end
