import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { acquireLock, LOCK_FILE, processStartTime, releaseLock } from "../../../tools/local/lock";

describe("local cloud lock file", () => {
    let dir: string;
    let other: ChildProcess;

    before(() => {
        // A live process that is not a local cloud: its pid stands for a pid the system reused.
        other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    });

    after(() => {
        other.kill();
    });

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "lock-"));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const writeLock = (content: unknown) => writeFileSync(path.join(dir, LOCK_FILE), typeof content === "string" ? content : JSON.stringify(content));
    const lockText = () => readFileSync(path.join(dir, LOCK_FILE), "utf8");
    /** The lock as this process writes it when it takes the lock. */
    const ownRecord = () => ({ pid: process.pid, startTime: processStartTime(process.pid) });

    it("records this process's pid and start time", () => {
        const file = acquireLock(dir);
        const record = JSON.parse(readFileSync(file, "utf8"));
        assert.equal(record.pid, process.pid);
        assert.equal(record.startTime, processStartTime(process.pid));
        assert.match(record.startTime, process.platform === "linux" ? /^\d+$/ : /./);
        releaseLock(file);
        assert.throws(() => readFileSync(file), /ENOENT/);
    });

    it("tells two processes apart by start time", () => {
        assert.ok(processStartTime(other.pid!));
        assert.notEqual(processStartTime(other.pid!), processStartTime(process.pid));
        assert.equal(processStartTime(2 ** 22 + 12345), undefined);
    });

    it("refuses a lock held by a live process that started when the lock says, and leaves it to its owner", () => {
        const held = { pid: other.pid, startTime: processStartTime(other.pid!) };
        writeLock(held);
        assert.throws(() => acquireLock(dir), new RegExp(`Another local cloud \\(pid ${other.pid}\\) is using`));
        assert.deepEqual(JSON.parse(lockText()), held);
    });

    it("takes over a lock whose pid now belongs to a process that started at another time", () => {
        writeLock({ pid: other.pid, startTime: "1" });
        const file = acquireLock(dir);
        assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), ownRecord());
    });

    it("takes over a lock of a process that is gone, and a lock it cannot read", () => {
        writeLock({ pid: 2 ** 22 + 12345, startTime: "1" });
        assert.deepEqual(JSON.parse(readFileSync(acquireLock(dir), "utf8")), ownRecord());
        writeLock("not a lock");
        assert.deepEqual(JSON.parse(readFileSync(acquireLock(dir), "utf8")), ownRecord());
    });

    it("still honours an earlier version's bare-pid lock while that pid is alive", () => {
        writeLock(String(other.pid));
        assert.throws(() => acquireLock(dir), new RegExp(`Another local cloud \\(pid ${other.pid}\\) is using`));
        assert.equal(lockText(), String(other.pid));
    });

    it("releases only a lock this process holds", () => {
        writeLock({ pid: other.pid, startTime: processStartTime(other.pid!) });
        releaseLock(path.join(dir, LOCK_FILE));
        assert.equal(JSON.parse(lockText()).pid, other.pid);
    });
});
