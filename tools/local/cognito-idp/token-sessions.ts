import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

/**
 * The sign-in sessions whose tokens are still good, as Cognito tracks them: every sign-in starts a
 * session (the tokens' `origin_jti`); a refresh keeps it; `RevokeToken` ends it, and a global
 * sign-out, an admin's global sign-out or the user's deletion ends all of the user's sessions. An
 * access token, a refresh token, or an id token shown to an Identity Pool with
 * `ServerSideTokenCheck`, is good only while its session is. Kept in `<data-dir>/cognito/sessions.json`,
 * so a restart does not revive tokens.
 */
export class TokenSessions {
    private readonly byUser: Record<string, string[]>;

    constructor(private readonly file?: string) {
        this.byUser = file && existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string[]>) : {};
    }

    private static key(userPoolId: string, username: string): string {
        return `${userPoolId}/${username}`;
    }

    add(userPoolId: string, username: string, originJti: string): void {
        const key = TokenSessions.key(userPoolId, username);
        this.byUser[key] = [...(this.byUser[key] ?? []), originJti];
        this.save();
    }

    has(userPoolId: string, username: string, originJti: unknown): boolean {
        return typeof originJti === "string" && (this.byUser[TokenSessions.key(userPoolId, username)] ?? []).includes(originJti);
    }

    /** Ends one session (RevokeToken). */
    end(userPoolId: string, username: string, originJti: string): void {
        const key = TokenSessions.key(userPoolId, username);
        this.byUser[key] = (this.byUser[key] ?? []).filter((jti) => jti !== originJti);
        this.save();
    }

    /** Ends every session of the user (global sign-out, deletion). */
    endAll(userPoolId: string, username: string): void {
        delete this.byUser[TokenSessions.key(userPoolId, username)];
        this.save();
    }

    private save(): void {
        if (!this.file) return;
        writeFileSync(`${this.file}.tmp`, JSON.stringify(this.byUser), { mode: 0o600 });
        renameSync(`${this.file}.tmp`, this.file);
    }
}
