/**
 * policyScaling: the whole policy pack (every resource policy on every resource, then every stack
 * policy over the stack) through the pack's own evaluation core, over synthetic stacks of 100,
 * 1000 and 10000 resources.
 */
import { evaluatePolicies } from "../../policy/evaluate";
import { policies } from "../../policy/policies";
import { median, round, timeRuns } from "./stats";
import { syntheticStack } from "./synthetic-stack";

export const POLICY_SIZES = [100, 1000, 10000] as const;

export interface PolicyScalingResult {
    figures: Record<"100" | "1000" | "10000", number>;
    details: { policies: number; rounds: number; violations: Record<string, number> };
}

export async function measurePolicyScaling(options: { rounds: number }): Promise<PolicyScalingResult> {
    const stacks = POLICY_SIZES.map((size) => ({ size, stack: syntheticStack(size), samples: [] as number[], violations: 0 }));
    // One untimed pass so the first size does not pay for JIT warm-up alone.
    await evaluatePolicies(syntheticStack(100));
    // Sizes take turns round by round, so a change in machine load hits all three alike.
    for (let round = 0; round < options.rounds; round++) {
        for (const entry of stacks) {
            const [ms] = await timeRuns(1, async () => {
                entry.violations = (await evaluatePolicies(entry.stack)).length;
            });
            entry.samples.push(ms);
        }
    }
    const figures = {} as PolicyScalingResult["figures"];
    const violations: Record<string, number> = {};
    for (const entry of stacks) {
        figures[String(entry.size) as keyof PolicyScalingResult["figures"]] = round(median(entry.samples), 3);
        violations[String(entry.size)] = entry.violations;
    }
    return { figures, details: { policies: policies.length, rounds: options.rounds, violations } };
}
