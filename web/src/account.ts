/**
 * The account calls that are not one Amplify function: erasing the account through the API, and
 * the authenticator app's setup URI.
 */
import { del } from "aws-amplify/api";
import type { SetUpTOTPOutput as AuthTOTPSetupDetails } from "aws-amplify/auth";
import { NOTES_API } from "./amplify";
import { call } from "./notes";

/** The name authenticator apps show for this app's codes (the `otpauth://` issuer). */
export const TOTP_ISSUER = "Notes";

/** At most this many 202s in a row before the client gives up (each call does a bounded batch). */
export const MAX_ERASURE_CALLS = 1000;

/**
 * A deletion's progress, from the 202 bodies of `DELETE /account`:
 * `{"remaining": ["files", "identity", "user"], "deleted": {"notes": 1000, "files": 0}}`, the steps
 * not finished yet and what that call deleted. Counts add up over the calls.
 */
export class ErasureProgress {
    calls = 0;
    remaining: string[] = [];
    readonly deleted = new Map<string, number>();

    add(body: unknown): void {
        this.calls++;
        const { remaining, deleted } = (typeof body === "object" && body !== null ? body : {}) as { remaining?: unknown; deleted?: unknown };
        if (Array.isArray(remaining)) this.remaining = remaining.filter((step): step is string => typeof step === "string");
        if (typeof deleted === "object" && deleted !== null) {
            for (const [what, count] of Object.entries(deleted)) {
                if (typeof count === "number" && Number.isFinite(count)) this.deleted.set(what, (this.deleted.get(what) ?? 0) + count);
            }
        }
    }

    /** "3 requests so far; deleted 2,000 notes and 12 files; still to delete: files, identity, user". */
    describe(): string {
        const parts = [`${this.calls} ${this.calls === 1 ? "request" : "requests"} so far`];
        // The API names what it counts in the plural ("notes", "files").
        const counts = [...this.deleted].map(([what, count]) => `${count.toLocaleString("en-US")} ${count === 1 ? what.replace(/s$/, "") : what}`);
        if (counts.length > 0) parts.push(`deleted ${counts.join(" and ")}`);
        if (this.remaining.length > 0) parts.push(`still to delete: ${this.remaining.join(", ")}`);
        return parts.join("; ");
    }
}

/**
 * Calls `DELETE /account` until it answers 204: the API erases the caller's notes, files (every
 * version), identity and user, a bounded batch per call, and answers 202 with what remains until
 * nothing does. `onProgress` sees the progress after each 202. Resolves with the number of calls.
 */
export async function eraseAccount(onProgress: (progress: ErasureProgress) => void): Promise<number> {
    const progress = new ErasureProgress();
    for (let calls = 1; calls <= MAX_ERASURE_CALLS; calls++) {
        const { status, body } = await call<unknown>(() => del({ apiName: NOTES_API, path: "/account" }));
        if (status === 204) return calls;
        progress.add(body);
        onProgress(progress);
    }
    throw new Error(`The account is not deleted yet after ${MAX_ERASURE_CALLS} requests. Try again: the deletion goes on where it stopped.`);
}

/**
 * The `otpauth://` URI an authenticator app reads (Amplify's `getSetupUri`), for this app and the
 * person's email. Both are URI-encoded, as the Key URI Format asks of the label.
 */
export function totpSetupUri(details: AuthTOTPSetupDetails, email: string): string {
    return details.getSetupUri(encodeURIComponent(TOTP_ISSUER), encodeURIComponent(email)).toString();
}
