/**
 * policyScaling: the whole policy pack (every resource policy on every resource, then every stack
 * policy over the stack) through the pack's own evaluation core, over synthetic stacks of 100,
 * 1000 and 10000 resources.
 */
import { evaluatePolicies } from "../policy/evaluate";
import { policies } from "../policy/policies";
import { median, round, timeRuns } from "./stats";
import { syntheticStack } from "./synthetic-stack";

export const POLICY_SIZES = [100, 1000, 10000] as const;

export interface PolicyScalingResult {
    figures: Record<"100" | "1000" | "10000", number>;
    details: { policies: number; runs: Record<string, number>; violations: Record<string, number> };
}

export async function measurePolicyScaling(options: { runs: Record<(typeof POLICY_SIZES)[number], number> }): Promise<PolicyScalingResult> {
    const figures = {} as PolicyScalingResult["figures"];
    const violations: Record<string, number> = {};
    // One untimed pass so the first size does not pay for JIT warm-up alone.
    await evaluatePolicies(syntheticStack(100));
    for (const size of POLICY_SIZES) {
        const stack = syntheticStack(size);
        let found = 0;
        const samples = await timeRuns(options.runs[size], async () => {
            found = (await evaluatePolicies(stack)).length;
        });
        figures[String(size) as keyof PolicyScalingResult["figures"]] = round(median(samples), 3);
        violations[String(size)] = found;
    }
    return { figures, details: { policies: policies.length, runs: { ...options.runs }, violations } };
}
