import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export const LOCK_FILE = "local-cloud.pid";

/** What the lock file records: the owner's pid and when that process started. */
export interface LockRecord {
    pid: number;
    /** Opaque start time of the process (Linux: clock ticks since boot; elsewhere `ps -o lstart`). */
    startTime?: string;
}

/**
 * When process `pid` started, in a form that tells two processes with the same pid apart: Linux's
 * `/proc/<pid>/stat` field 22 (`starttime`), or `ps -o lstart=` where there is no /proc.
 * Undefined when the process does not exist or the platform offers neither.
 */
export function processStartTime(pid: number): string | undefined {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        // Field 2 (the command) is in parentheses and may contain spaces and parentheses itself:
        // the fields after the last ")" start at field 3.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const startTime = fields[22 - 3];
        if (/^\d+$/.test(startTime ?? "")) return startTime;
    } catch {
        // No /proc (macOS, BSD) or no such process: try ps below.
    }
    if (process.platform === "win32") return undefined;
    try {
        const started = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        return started || undefined;
    } catch {
        return undefined;
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        // EPERM: the process exists but belongs to another user.
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * True when the lock's owner is still running: the pid is alive and, where the lock recorded a
 * start time, the process with that pid started at that time (a reused pid is another process).
 */
export function lockHeld(record: LockRecord): boolean {
    if (record.pid === process.pid || !alive(record.pid)) return false;
    if (record.startTime === undefined) return true;
    const current = processStartTime(record.pid);
    return current === undefined || current === record.startTime;
}

function readLock(file: string): LockRecord | undefined {
    let text: string;
    try {
        text = readFileSync(file, "utf8").trim();
    } catch {
        return undefined;
    }
    // Earlier versions wrote the bare pid.
    if (/^\d+$/.test(text)) return { pid: Number(text) };
    try {
        const record = JSON.parse(text);
        return Number.isInteger(record?.pid) ? { pid: record.pid, startTime: typeof record.startTime === "string" ? record.startTime : undefined } : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Takes the data directory's lock for this process, or throws naming the process that holds it.
 * A lock left by a process that is gone, or whose pid now belongs to another process, is stale
 * and taken over. Returns the lock file's path.
 */
export function acquireLock(dataDir: string): string {
    const file = path.join(dataDir, LOCK_FILE);
    const existing = readLock(file);
    if (existing && lockHeld(existing)) {
        throw new Error(`Another local cloud (pid ${existing.pid}) is using ${dataDir}; stop it, or pass another --data-dir. (If no such process runs, remove ${file}.)`);
    }
    const record: LockRecord = { pid: process.pid, startTime: processStartTime(process.pid) };
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(record)}\n`);
    renameSync(temporary, file);
    return file;
}

/** Removes the lock when this process holds it. */
export function releaseLock(file: string): void {
    if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}
