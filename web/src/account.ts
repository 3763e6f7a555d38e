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

/** What `DELETE /account` answered: `done` on 204, else its 202 body (what remains). */
export interface ErasureStep {
    done: boolean;
    remaining?: unknown;
}

/** At most this many 202s in a row before the client gives up (each call does a bounded batch). */
export const MAX_ERASURE_CALLS = 1000;

/**
 * Calls `DELETE /account` until it answers 204: the API erases the caller's notes, files (every
 * version), identity and user, a bounded batch per call, and answers 202 with what remains until
 * nothing does. `onProgress` sees each 202's body.
 */
export async function eraseAccount(onProgress: (remaining: unknown, calls: number) => void): Promise<number> {
    for (let calls = 1; calls <= MAX_ERASURE_CALLS; calls++) {
        const { status, body } = await call<unknown>(() => del({ apiName: NOTES_API, path: "/account" }));
        if (status === 204) return calls;
        onProgress(body, calls);
    }
    throw new Error(`The account is not deleted yet after ${MAX_ERASURE_CALLS} requests. Try again: the deletion goes on where it stopped.`);
}

/**
 * A one-line summary of a 202 body: its counts, e.g. "notes: 1,200, files: 30". The API's body
 * names what remains (`{"remaining": {...}}`); every number or true flag in it is shown.
 */
export function describeRemaining(body: unknown): string {
    const source = (body as { remaining?: unknown } | undefined)?.remaining ?? body;
    if (typeof source !== "object" || source === null) return "";
    const parts: string[] = [];
    for (const [key, value] of Object.entries(source)) {
        const label = key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
        if (typeof value === "number") parts.push(`${label}: ${value.toLocaleString("en-US")}`);
        else if (value === true) parts.push(label);
    }
    return parts.join(", ");
}

/**
 * The `otpauth://` URI an authenticator app reads (Amplify's `getSetupUri`), for this app and the
 * person's email. Both are URI-encoded, as the Key URI Format asks of the label.
 */
export function totpSetupUri(details: AuthTOTPSetupDetails, email: string): string {
    return details.getSetupUri(encodeURIComponent(TOTP_ISSUER), encodeURIComponent(email)).toString();
}
