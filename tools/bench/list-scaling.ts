/**
 * listScaling: latency of the first page of GET /notes (default limit) for users who own 10, 1000
 * and 10000 notes, through the deployed list bundle against the local DynamoDB. A paginated Query
 * reads one page whatever the partition holds; a Scan or an unbounded Query would grow with it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { bundleHandler } from "../../lib/bundle";
import { httpEvent, newIdentityId } from "../local/apigateway/event";
import { BENCH_TMP } from "./builds";
import { BenchDynamo, seedNotes } from "./dynamo";
import { median, round, timeRuns } from "./stats";

export const LIST_SIZES = [10, 1000, 10000] as const;

export interface ListScalingResult {
    figures: Record<"10" | "1000" | "10000", number>;
    details: { requestsPerSize: number; seedMs: number; pageSize: Record<string, number> };
}

export async function measureListScaling(db: BenchDynamo, options: { requests: number; warmup: number }): Promise<ListScalingResult> {
    const seedStarted = Date.now();
    const users: { size: number; identityId: string }[] = [];
    for (const size of LIST_SIZES) {
        const identityId = newIdentityId();
        await seedNotes(db, identityId, size);
        users.push({ size, identityId });
    }
    const seedMs = Date.now() - seedStarted;

    const dir = path.join(BENCH_TMP, "list-scaling");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "index.js"), bundleHandler("list").code);
    Object.assign(process.env, db.lambdaEnv(), { LOG_LEVEL: "warn" });
    const list: (event: unknown) => Promise<{ statusCode: number; body?: string }> = require(path.join(dir, "index.js")).handler;

    const samples = new Map<number, number[]>(users.map(({ size }) => [size, []]));
    const pageSize: Record<string, number> = {};
    const firstPage = async (identityId: string) => {
        const response = await list(httpEvent({ identityId, method: "GET", path: "/notes" }));
        if (response.statusCode !== 200) throw new Error(`GET /notes answered ${response.statusCode}: ${response.body}`);
        return JSON.parse(response.body ?? "{}").notes.length as number;
    };
    for (const { identityId } of users) await timeRuns(options.warmup, () => firstPage(identityId));
    // Sizes take turns request by request, so a change in machine load hits all three alike.
    for (let i = 0; i < options.requests; i++) {
        for (const { size, identityId } of users) {
            const [ms] = await timeRuns(1, async () => {
                pageSize[String(size)] = await firstPage(identityId);
            });
            samples.get(size)!.push(ms);
        }
    }
    const figures = {} as ListScalingResult["figures"];
    for (const [size, values] of samples) figures[String(size) as keyof ListScalingResult["figures"]] = round(median(values), 3);
    return { figures, details: { requestsPerSize: options.requests, seedMs, pageSize } };
}
