import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/** Temporary credentials the local identity service (or the function runtime) handed out. */
export interface SessionCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    /** Epoch milliseconds. */
    expiration: number;
    /** The role the session acts as (its policies decide every request). */
    roleArn: string;
    /** `arn:aws:sts::<acct>:assumed-role/<role name>/<session name>`. */
    principalArn: string;
    /** Set for Identity Pool sessions: the caller's identity (`${cognito-identity.amazonaws.com:sub}`). */
    identityId?: string;
    identityPoolId?: string;
    /** Authentication methods of the identity (payload 2.0 `cognitoIdentity.amr`). */
    amr?: string[];
}

export interface MintOptions {
    roleArn: string;
    sessionName: string;
    identityId?: string;
    identityPoolId?: string;
    amr?: string[];
    /** Lifetime in seconds (STS default for Identity Pool credentials: 1 hour). */
    ttlSeconds?: number;
    /** Issue time (epoch ms); tests back-date credentials with it. */
    now?: number;
}

/** Expired sessions are kept a day so that their use is answered "expired", not "invalid". */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function randomString(length: number, alphabet: string): string {
    const bytes = randomBytes(length);
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
    return out;
}

/** `arn:aws:iam::<acct>:role/<path/><name>` -> `<name>`. */
export function roleNameOf(roleArn: string): string {
    return roleArn.slice(roleArn.lastIndexOf("/") + 1);
}

/**
 * Every temporary credential the local cloud issued, by access key id; saved to a JSON file so a
 * restarted local cloud still honours sessions that have not expired.
 */
export class CredentialStore {
    private readonly sessions = new Map<string, SessionCredentials>();

    constructor(private readonly file?: string) {
        if (file && existsSync(file)) {
            const saved: SessionCredentials[] = JSON.parse(readFileSync(file, "utf8"));
            const horizon = Date.now() - FORGET_AFTER_MS;
            for (const session of saved) if (session.expiration > horizon) this.sessions.set(session.accessKeyId, session);
        }
    }

    /** Issues credentials shaped like STS's: `ASIA…` key id, 40-character secret, opaque token. */
    mint(options: MintOptions): SessionCredentials {
        const accountId = /^arn:aws:iam::(\d{12}):/.exec(options.roleArn)?.[1] ?? "000000000000";
        const session: SessionCredentials = {
            accessKeyId: `ASIA${randomString(16, UPPER_ALNUM)}`,
            secretAccessKey: randomBytes(30).toString("base64"),
            sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString("base64")}`,
            expiration: (options.now ?? Date.now()) + (options.ttlSeconds ?? 3600) * 1000,
            roleArn: options.roleArn,
            principalArn: `arn:aws:sts::${accountId}:assumed-role/${roleNameOf(options.roleArn)}/${options.sessionName}`,
            identityId: options.identityId,
            identityPoolId: options.identityPoolId,
            amr: options.amr,
        };
        const horizon = Date.now() - FORGET_AFTER_MS;
        for (const [key, old] of this.sessions) if (old.expiration <= horizon) this.sessions.delete(key);
        this.sessions.set(session.accessKeyId, session);
        this.save();
        return session;
    }

    get(accessKeyId: string): SessionCredentials | undefined {
        return this.sessions.get(accessKeyId);
    }

    save(): void {
        if (!this.file) return;
        const horizon = Date.now() - FORGET_AFTER_MS;
        const live = [...this.sessions.values()].filter((session) => session.expiration > horizon);
        // Secrets of live sessions: readable by this user only.
        writeFileSync(`${this.file}.tmp`, JSON.stringify(live), { mode: 0o600 });
        renameSync(`${this.file}.tmp`, this.file);
    }
}
