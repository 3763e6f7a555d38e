/**
 * Stand-ins for the erasure's S3 and Cognito sides (handlers/erasure.ts `VersionStore` and
 * `AccountDirectory`) that keep their state in memory and count their calls, and a DynamoDB
 * document client wrapper that counts and can disturb the real client's requests.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AccountDirectory, VersionStore } from "../../handlers/erasure";

export interface StoredVersion {
    Key: string;
    VersionId: string;
    deleteMarker?: boolean;
}

/** A bucket's versions as S3 lists them: by key, then newest version first (here: by id, descending). */
export class FakeVersionStore implements VersionStore {
    versions: StoredVersion[] = [];
    calls = { listObjectVersions: 0, deleteObjects: 0 };
    /** Keys of the next DeleteObjects calls to report as failed (SlowDown), one list per call. */
    failNext: string[][] = [];
    /** Buckets, prefixes and keys the erasure asked for, to check it never left the caller's prefix. */
    asked: { bucket?: string; prefix?: string; keys: string[] }[] = [];

    put(key: string, versions = 1, deleteMarker = false): void {
        for (let i = 0; i < versions; i++) this.versions.push({ Key: key, VersionId: `v${String(this.versions.length).padStart(6, "0")}` });
        if (deleteMarker) this.versions.push({ Key: key, VersionId: `v${String(this.versions.length).padStart(6, "0")}`, deleteMarker: true });
    }

    keysUnder(prefix: string): StoredVersion[] {
        return this.versions.filter((v) => v.Key.startsWith(prefix));
    }

    async listObjectVersions(input: { Bucket?: string; Prefix?: string; KeyMarker?: string; VersionIdMarker?: string; MaxKeys?: number }) {
        this.calls.listObjectVersions++;
        this.asked.push({ bucket: input.Bucket, prefix: input.Prefix, keys: [] });
        const sorted = this.versions
            .filter((v) => v.Key.startsWith(input.Prefix ?? ""))
            .sort((a, b) => (a.Key === b.Key ? b.VersionId.localeCompare(a.VersionId) : a.Key < b.Key ? -1 : 1));
        let start = 0;
        if (input.KeyMarker !== undefined) {
            const at = sorted.findIndex((v) => v.Key === input.KeyMarker && v.VersionId === input.VersionIdMarker);
            start = at >= 0 ? at + 1 : sorted.findIndex((v) => v.Key > input.KeyMarker!);
            if (start < 0) start = sorted.length;
        }
        const max = input.MaxKeys ?? 1000;
        const page = sorted.slice(start, start + max);
        const truncated = start + max < sorted.length;
        const last = page[page.length - 1];
        return {
            Versions: page.filter((v) => !v.deleteMarker).map(({ Key, VersionId }) => ({ Key, VersionId })),
            DeleteMarkers: page.filter((v) => v.deleteMarker).map(({ Key, VersionId }) => ({ Key, VersionId })),
            IsTruncated: truncated,
            NextKeyMarker: truncated ? last.Key : undefined,
            NextVersionIdMarker: truncated ? last.VersionId : undefined,
        };
    }

    async deleteObjects(input: { Bucket?: string; Delete?: { Objects?: { Key?: string; VersionId?: string }[] } }) {
        this.calls.deleteObjects++;
        const objects = input.Delete?.Objects ?? [];
        this.asked.push({ bucket: input.Bucket, keys: objects.map((o) => o.Key!) });
        if (objects.length > 1000) throw Object.assign(new Error("MalformedXML"), { name: "MalformedXML" });
        const failing = new Set(this.failNext.shift() ?? []);
        const Errors = objects.filter((o) => failing.has(o.Key!)).map((o) => ({ Key: o.Key, VersionId: o.VersionId, Code: "SlowDown", Message: "Please reduce your request rate." }));
        const removed = new Set(objects.filter((o) => !failing.has(o.Key!)).map((o) => `${o.Key}\u0000${o.VersionId}`));
        this.versions = this.versions.filter((v) => !removed.has(`${v.Key}\u0000${v.VersionId}`));
        return { Errors: Errors.length > 0 ? Errors : undefined };
    }
}

/** Identities and users, deleted by id; deleting one already gone succeeds, as AWS does. */
export class FakeDirectory implements AccountDirectory {
    identities = new Set<string>();
    users = new Set<string>();
    /** Every call in order: `identity:<id>` or `user:<sub>`. */
    calls: string[] = [];
    /** Errors to throw from the next calls, in order. */
    failures: (Error | undefined)[] = [];

    async deleteIdentity(identityId: string): Promise<void> {
        this.calls.push(`identity:${identityId}`);
        const failure = this.failures.shift();
        if (failure) throw failure;
        this.identities.delete(identityId);
    }

    async deleteUser(sub: string): Promise<void> {
        this.calls.push(`user:${sub}`);
        const failure = this.failures.shift();
        if (failure) throw failure;
        this.users.delete(sub);
    }
}

export interface CountingClient {
    client: DynamoDBDocumentClient;
    counts: Record<string, number>;
    /** For the next BatchWriteItem calls, how many of their items to hand back unprocessed. */
    unprocessedNext: number[];
}

/** The real client, with every request counted by command name and BatchWriteItem results disturbed on demand. */
export function countingClient(real: DynamoDBDocumentClient): CountingClient {
    const counts: Record<string, number> = {};
    const unprocessedNext: number[] = [];
    const client = {
        send: async (command: { constructor: { name: string }; input: any }) => {
            const name = command.constructor.name;
            counts[name] = (counts[name] ?? 0) + 1;
            const hold = name === "BatchWriteCommand" ? unprocessedNext.shift() ?? 0 : 0;
            if (hold === 0) return real.send(command as never);
            // DynamoDB processed only part of the batch: write the rest, hand back `hold` items.
            const [table, requests] = Object.entries(command.input.RequestItems as Record<string, unknown[]>)[0];
            const done = requests.slice(0, requests.length - hold);
            const Command = command.constructor as new (input: unknown) => unknown;
            if (done.length > 0) await real.send(new Command({ RequestItems: { [table]: done } }) as never);
            return { UnprocessedItems: { [table]: requests.slice(requests.length - hold) } };
        },
    } as unknown as DynamoDBDocumentClient;
    return { client, counts, unprocessedNext };
}
