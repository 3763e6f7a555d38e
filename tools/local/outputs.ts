import type { StackOutputs } from "../../outputs";

/** `<data-dir>/outputs.json`, written once the local cloud is ready. */
export const OUTPUTS_FILE = "outputs.json";

/** Where SDK clients reach the local services (`endpoints` in `outputs.json`). */
export interface LocalEndpoints {
    cognitoIdp: string;
    cognitoIdentity: string;
    s3: string;
    /** dynalite for operators: unauthenticated, loopback only. */
    dynamodb: string;
}

/** `outputs.json`: the stack outputs under their stack names, plus the endpoints for SDK clients. */
export interface LocalOutputs extends StackOutputs {
    endpoints: LocalEndpoints;
}
