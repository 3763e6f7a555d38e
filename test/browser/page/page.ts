/**
 * The browser test's page: Amplify JS v6's public APIs and the configuration the README shows,
 * on `globalThis.notes` for the test to call (`page.evaluate`). No UI.
 */
import { Amplify } from "aws-amplify";
import * as api from "aws-amplify/api";
import * as auth from "aws-amplify/auth";
// Completes signInWithRedirect when the managed login sends the browser back with a code.
import "aws-amplify/auth/enable-oauth-listener";
import * as storage from "aws-amplify/storage";
import { amplifyConfig, NOTES_API } from "../../../web/src/amplify";
import { parseClientConfig } from "../../../web/src/config";

Object.assign(globalThis, { notes: { Amplify, api, auth, storage, amplifyConfig, parseClientConfig, NOTES_API } });

/** What a rejected promise carried, as plain data: `undefined` when it resolved. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number } | undefined> {
    try {
        await promise;
        return undefined;
    } catch (error) {
        // Storage errors carry the status in `metadata`, REST API errors in `response` (and `$metadata`).
        const e = error as { name: string; message: string; metadata?: { httpStatusCode?: number }; $metadata?: { httpStatusCode?: number }; response?: { statusCode?: number } };
        return { name: e.name, message: e.message, status: e.metadata?.httpStatusCode ?? e.$metadata?.httpStatusCode ?? e.response?.statusCode };
    }
}

/** SHA-256 of a blob, hex. */
async function sha256(blob: Blob): Promise<string> {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Object.assign((globalThis as unknown as { notes: object }).notes, { failure, sha256 });
