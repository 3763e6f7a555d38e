import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy } from "./define";
import { conditionEntries, describeStatement, hasWildcard, items, parseDocument, quote, statements } from "./util";

export const TYPES = {
    identityPool: ["aws:cognito/identityPool:IdentityPool"],
    role: ["aws:iam/role:Role"],
} as const;

export const noUnauthenticatedIdentities: ResourceValidationPolicy = resourcePolicy({
    name: "cognito-identity-pool-no-unauthenticated",
    description: "Checks that every Cognito Identity Pool disallows unauthenticated identities.",
    types: TYPES.identityPool,
    validate: (props, ctx) => {
        // The provider's default is false, so an absent value is safe.
        if (props.allowUnauthenticatedIdentities !== true) return;
        ctx.report(`Identity pool ${ctx.name} must set allowUnauthenticatedIdentities to false, found true: guests would receive AWS credentials.`);
    },
});

const COGNITO = "cognito-identity.amazonaws.com";
const AUD = `${COGNITO}:aud`;
const AMR = `${COGNITO}:amr`;

function trustsCognito(statement: Record<string, any>): boolean {
    if (statement?.Effect !== "Allow") return false;
    const principal = statement.Principal;
    return principal !== null && typeof principal === "object" && items(principal.Federated).includes(COGNITO);
}

/** What is wrong with the conditions of one statement that trusts Cognito Identity, if anything. */
export function cognitoTrustProblems(statement: Record<string, any>): string[] {
    const entries = conditionEntries(statement.Condition);
    const problems: string[] = [];
    const aud = entries.filter((entry) => entry.key.toLowerCase() === AUD);
    const audPinned = aud.some(
        (entry) =>
            ["stringequals", "foranyvalue:stringequals"].includes(entry.operator.toLowerCase()) &&
            entry.values.length > 0 &&
            entry.values.every((value) => typeof value === "string" && value.length > 0 && !hasWildcard(value)),
    );
    if (!audPinned) {
        problems.push(`a StringEquals condition on ${AUD} naming the identity pool id (found ${aud.length > 0 ? aud.map((e) => `${e.operator} ${quote(e.values)}`).join(", ") : "none"})`);
    }
    const amr = entries.filter((entry) => entry.key.toLowerCase() === AMR);
    const amrAuthenticated = amr.some(
        (entry) =>
            !entry.operator.toLowerCase().includes("not") &&
            !entry.operator.toLowerCase().startsWith("forallvalues:") &&
            !entry.operator.toLowerCase().endsWith("ifexists") &&
            entry.values.length > 0 &&
            entry.values.every((value) => value === "authenticated"),
    );
    if (!amrAuthenticated) {
        problems.push(`a condition on ${AMR} that admits only "authenticated" (found ${amr.length > 0 ? amr.map((e) => `${e.operator} ${quote(e.values)}`).join(", ") : "none"})`);
    }
    return problems;
}

export const cognitoTrustConditions: ResourceValidationPolicy = resourcePolicy({
    name: "iam-cognito-trust-conditions",
    description: `Checks that every IAM role trusting ${COGNITO} conditions on its :aud (the identity pool) and on :amr = authenticated.`,
    types: TYPES.role,
    validate: (props, ctx) => {
        const trust = props.assumeRolePolicy;
        if (trust === undefined || trust === null || trust === "") return;
        const { document, error } = parseDocument(trust);
        if (!document) {
            ctx.report(`The trust policy of role ${ctx.name} must be a valid policy document so it can be checked; it ${error}.`);
            return;
        }
        statements(document).forEach((statement, index) => {
            if (!trustsCognito(statement)) return;
            for (const problem of cognitoTrustProblems(statement)) {
                ctx.report(`Role ${ctx.name} trusts ${COGNITO} (${describeStatement(statement, index)}) and must require ${problem}.`);
            }
        });
    },
});

export const identityPolicies: ResourceValidationPolicy[] = [noUnauthenticatedIdentities, cognitoTrustConditions];
