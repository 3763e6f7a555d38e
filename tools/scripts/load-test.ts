/**
 * `npm run test:load [-- --clients 50 --seconds 20]`: starts the local cloud (`npm start`, in a
 * child process, on loopback, in a temporary data dir), signs up one user per client, then runs
 * that many concurrent SigV4-signed clients against the API for a fixed time. Each client creates
 * notes and reads, lists, updates and deletes its own. Afterwards every note whose create was
 * acknowledged (201) and not deleted must be listed by its owner.
 *
 * Exits 0 only with zero 5xx, zero transport errors and zero lost writes. Bounded: at most 200
 * clients and 120 s of load, plus a hard stop; the local cloud is stopped and its data removed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { HandlerName } from "../../components/api";
import { FlowUser, NotesClient } from "../client/flow";
import { LocalCloudProcess, startLocalCloudProcess } from "../local/process";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** One request of the mix: the route of that handler. */
type Operation = HandlerName;

interface Sample {
    operation: Operation;
    status: number;
    ms: number;
}

const SUCCESS: Record<Operation, number> = { create: 201, get: 200, list: 200, update: 200, delete: 204 };

interface ClientState {
    user: FlowUser;
    /** Acknowledged creates not deleted since: the notes the owner must find afterwards. */
    live: Map<string, string>;
    samples: Sample[];
    transportErrors: string[];
}

function options(): { clients: number; seconds: number } {
    const { values } = parseArgs({ options: { clients: { type: "string", default: "50" }, seconds: { type: "string", default: "20" } }, strict: true });
    const clients = Number(values.clients);
    const seconds = Number(values.seconds);
    if (!Number.isInteger(clients) || clients < 1 || clients > 200) throw new Error(`--clients must be 1..200, got ${values.clients}`);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 120) throw new Error(`--seconds must be in (0, 120], got ${values.seconds}`);
    return { clients, seconds };
}

/** What a client does next: mostly writes (the point is lost writes), with reads of its own notes. */
function nextOperation(state: ClientState, random: number): Operation {
    if (state.live.size === 0) return "create";
    if (random < 0.45) return "create";
    if (random < 0.65) return "get";
    if (random < 0.75) return "list";
    if (random < 0.92) return "update";
    return "delete";
}

async function runClient(client: NotesClient, state: ClientState, deadline: number): Promise<void> {
    let counter = 0;
    while (Date.now() < deadline) {
        const operation = nextOperation(state, Math.random());
        const ids = [...state.live.keys()];
        const noteId = ids[Math.floor(Math.random() * ids.length)];
        const started = process.hrtime.bigint();
        let status: number;
        try {
            switch (operation) {
                case "create": {
                    const content = `load note ${counter++} of ${state.user.identityId}`;
                    const response = await client.api(state.user, "POST", "/notes", { content });
                    status = response.status;
                    if (status === 201) state.live.set(response.json().noteId, content);
                    break;
                }
                case "get":
                    status = (await client.api(state.user, "GET", `/notes/${noteId}`)).status;
                    break;
                case "list":
                    status = (await client.api(state.user, "GET", "/notes?limit=20")).status;
                    break;
                case "update": {
                    const content = `${state.live.get(noteId)} (edited)`;
                    const response = await client.api(state.user, "PUT", `/notes/${noteId}`, { content });
                    status = response.status;
                    if (status === 200) state.live.set(noteId, content);
                    break;
                }
                case "delete":
                    status = (await client.api(state.user, "DELETE", `/notes/${noteId}`)).status;
                    if (status === 204) state.live.delete(noteId);
                    break;
            }
        } catch (error) {
            state.transportErrors.push(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
            continue;
        }
        state.samples.push({ operation, status, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    }
}

/** Every note of the user, following cursors. */
async function listAll(client: NotesClient, user: FlowUser): Promise<Map<string, string>> {
    const notes = new Map<string, string>();
    let cursor: string | undefined;
    do {
        const response = await client.api(user, "GET", `/notes?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
        if (response.status !== 200) throw new Error(`listing ${user.identityId} answered ${response.status} ${response.text}`);
        const page = response.json<{ notes: { noteId: string; content: string }[]; cursor?: string }>();
        for (const note of page.notes) notes.set(note.noteId, note.content);
        cursor = page.cursor;
    } while (cursor);
    return notes;
}

function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<number> {
    const { clients, seconds } = options();
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const dataDir = mkdtempSync(path.join(tmpdir(), "notes-load-"));
    let cloud: LocalCloudProcess | undefined;
    // A hard stop in case anything hangs: load time plus generous set-up and check time.
    const hardStop = setTimeout(() => {
        process.stderr.write("test:load: hard time limit reached, stopping\n");
        void cloud?.stop("SIGKILL");
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(2);
    }, (seconds + 150) * 1000);
    hardStop.unref();
    try {
        cloud = await startLocalCloudProcess(dataDir, ["--stack", "dev"]);
        for (const url of [cloud.outputs.apiUrl, ...Object.values(cloud.outputs.endpoints)]) {
            const host = new URL(url).hostname;
            if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`refusing to load a non-loopback endpoint ${url}`);
        }
        print(`test:load: local cloud ready in ${cloud.readySeconds.toFixed(1)} s at ${cloud.outputs.apiUrl}; signing up ${clients} users`);
        const client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        const users: FlowUser[] = [];
        for (let i = 0; i < clients; i += 10) {
            users.push(...(await Promise.all(Array.from({ length: Math.min(10, clients - i) }, (_, j) => client.newUser(`load${i + j}`)))));
        }
        const states: ClientState[] = users.map((user) => ({ user, live: new Map(), samples: [], transportErrors: [] }));

        print(`test:load: ${clients} concurrent signed clients for ${seconds} s`);
        const started = Date.now();
        await Promise.all(states.map((state) => runClient(client, state, started + seconds * 1000)));
        const elapsed = (Date.now() - started) / 1000;

        // Lost writes: every acknowledged, undeleted note must be listed by its owner, with the
        // content of its last acknowledged write.
        let lost = 0;
        let stale = 0;
        let expected = 0;
        for (const state of states) {
            const listed = await listAll(client, state.user);
            for (const [noteId, content] of state.live) {
                expected++;
                if (!listed.has(noteId)) lost++;
                else if (listed.get(noteId) !== content) stale++;
            }
        }

        const samples = states.flatMap((state) => state.samples);
        const transportErrors = states.flatMap((state) => state.transportErrors);
        const serverErrors = samples.filter((sample) => sample.status >= 500);
        // A client touches only notes it knows to exist, so anything but success is a fault too.
        const unexpected = samples.filter((sample) => sample.status !== SUCCESS[sample.operation]);
        const latencies = samples.map((sample) => sample.ms).sort((a, b) => a - b);
        const byStatus: Record<string, number> = {};
        for (const sample of samples) byStatus[`${sample.operation} ${sample.status}`] = (byStatus[`${sample.operation} ${sample.status}`] ?? 0) + 1;

        print(`requests: ${samples.length} in ${elapsed.toFixed(1)} s = ${(samples.length / elapsed).toFixed(1)} req/s`);
        print(`latency ms: p50 ${percentile(latencies, 50).toFixed(1)}, p90 ${percentile(latencies, 90).toFixed(1)}, p99 ${percentile(latencies, 99).toFixed(1)}, max ${latencies[latencies.length - 1]?.toFixed(1)}`);
        print(`by operation and status: ${Object.entries(byStatus).sort().map(([key, count]) => `${key}: ${count}`).join(", ")}`);
        print(`5xx: ${serverErrors.length}; other unexpected statuses: ${unexpected.length - serverErrors.length}; transport errors: ${transportErrors.length}${transportErrors.length ? ` (first: ${transportErrors[0]})` : ""}`);
        print(`writes: ${expected} acknowledged notes expected, ${lost} lost, ${stale} with stale content`);
        const failed = unexpected.length > 0 || transportErrors.length > 0 || lost > 0 || stale > 0 || samples.length === 0;
        if (failed) {
            // What the server said about its faults (handler and gateway error lines), for the CI log.
            const faults = cloud.output().split("\n").filter((line) => /"level":"(ERROR|error)"|"statusCode":5\d\d|Task timed out/.test(line));
            print(`server-side fault lines (${faults.length}, first 20):\n${faults.slice(0, 20).join("\n")}`);
        }
        print(`test:load ${failed ? "FAILED" : "passed"}`);
        return failed ? 1 : 0;
    } finally {
        await cloud?.stop();
        rmSync(dataDir, { recursive: true, force: true });
        clearTimeout(hardStop);
    }
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`test:load: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
        process.exit(2);
    },
);
