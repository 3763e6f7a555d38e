/**
 * The reference web client: sign up, confirm the emailed code, sign in, then notes (list, create,
 * edit with If-Match, delete) and one attachment per note (upload with overwrite protection,
 * download, remove). Plain DOM; every AWS call goes through Amplify JS v6.
 */
import { Amplify } from "aws-amplify";
import {
    confirmResetPassword,
    confirmSignIn,
    confirmSignUp,
    fetchUserAttributes,
    getCurrentUser,
    resendSignUpCode,
    resetPassword,
    signIn,
    signInWithRedirect,
    type SignInOutput,
    signOut,
    signUp,
} from "aws-amplify/auth";
import { AccountView, renderTotpSetup } from "./account-view";
// Completes a sign-in when the managed login redirects back here with a code.
import "aws-amplify/auth/enable-oauth-listener";
import { Hub } from "aws-amplify/utils";
import { amplifyConfig } from "./amplify";
import { bucketHost, CONFIG_ELEMENT_ID, parseClientConfig, WebClientConfig } from "./config";
import { downloadAttachment, fileNameOf, removeAttachment, uploadAttachment } from "./files";
import { ErrorContext, explain } from "./messages";
import { createNote, deleteNote, getNote, listNotes, Note, updateNote } from "./notes";
import { $, showView } from "./views";

const views = ["#loading", "#sign-in", "#sign-up", "#confirm", "#forgot", "#reset", "#mfa-code", "#mfa-setup", "#notes", "#account"] as const;

let config: WebClientConfig;
/** ETag of each note at the version this page last read or wrote (sent back as If-Match). */
const etags = new Map<string, string>();
let cursor: string | undefined;
/** Kept in memory between sign-up and confirmation, to sign in right after. */
let pending: { email: string; password: string } | undefined;
/** The email being signed in while Cognito asks for a second step (the authenticator app's code). */
let signingIn: string | undefined;

function show(view: (typeof views)[number]): void {
    showView(views, view);
    const signedIn = view === "#notes" || view === "#account";
    $("#sign-out").hidden = !signedIn;
    $("#show-account").hidden = view !== "#notes";
    if (!signedIn) $("#who").textContent = "";
}

function say(text: string, kind: "info" | "error" = "info"): void {
    const message = $("#message");
    message.textContent = text;
    message.className = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    message.hidden = false;
}

function quiet(): void {
    $("#message").hidden = true;
}

/** Shows what went wrong; an expired session goes back to the sign-in form. */
function fail(error: unknown, context: ErrorContext = {}): void {
    const { problem, text } = explain(error, context);
    if (problem === "unknown") console.error(error);
    say(text, "error");
    if (problem === "session-expired") {
        etags.clear();
        show("#sign-in");
    }
}

/** Disables the form's buttons while `work` runs. */
async function busy(element: HTMLElement, work: () => Promise<void>): Promise<void> {
    const buttons = [...element.querySelectorAll("button")];
    buttons.forEach((b) => (b.disabled = true));
    try {
        await work();
    } finally {
        buttons.forEach((b) => (b.disabled = false));
    }
}

function field(form: HTMLFormElement, name: string): string {
    return (form.elements.namedItem(name) as HTMLInputElement).value;
}

async function enterNotes(email: string): Promise<void> {
    $("#who").textContent = email;
    show("#notes");
    $("#note-list").replaceChildren();
    cursor = undefined;
    await loadMore();
}

async function loadMore(): Promise<void> {
    const page = await listNotes(cursor);
    cursor = page.cursor;
    for (const note of page.notes) $("#note-list").append(renderNote(note));
    $("#more").hidden = !cursor;
}

function button(text: string, onClick: () => Promise<void>, className = ""): HTMLButtonElement {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.className = className;
    b.addEventListener("click", () => void onClick());
    return b;
}

function renderNote(note: Note): HTMLLIElement {
    const item = document.createElement("li");
    item.className = "note";
    item.dataset.noteId = note.noteId;
    const replace = (next: Note) => item.replaceWith(renderNote(next));
    const run = (work: () => Promise<void>, context: ErrorContext = {}) => busy(item, () => work().catch((error) => fail(error, context)));

    const content = document.createElement("p");
    content.className = "content";
    content.textContent = note.content;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `Updated ${new Date(note.updatedAt).toLocaleString()} · version ${note.version}`;
    item.append(content, meta);

    if (note.attachment) {
        const path = note.attachment;
        const attachment = document.createElement("div");
        attachment.className = "attachment";
        const name = document.createElement("span");
        name.textContent = `File: ${fileNameOf(path)}`;
        attachment.append(
            name,
            button("Download", () =>
                run(async () => {
                    const blob = await downloadAttachment(path);
                    const link = document.createElement("a");
                    link.href = URL.createObjectURL(blob);
                    link.download = fileNameOf(path);
                    link.click();
                    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
                    say(`Downloaded ${fileNameOf(path)} (${blob.size.toLocaleString()} bytes).`);
                }),
            ),
            button("Remove file", () =>
                run(async () => {
                    const { etag } = await current(note.noteId);
                    const updated = await updateNote(note.noteId, { attachment: null }, etag);
                    etags.set(note.noteId, updated.etag);
                    await removeAttachment(path);
                    say(`Removed ${fileNameOf(path)}.`);
                    replace(updated.note);
                }),
            ),
        );
        item.append(attachment);
    }

    const actions = document.createElement("div");
    actions.className = "actions";
    const upload = document.createElement("label");
    upload.className = "file-button";
    upload.textContent = note.attachment ? "Replace file" : "Attach file";
    const input = document.createElement("input");
    input.type = "file";
    input.addEventListener("change", () => {
        const file = input.files?.[0];
        input.value = "";
        if (file) void run(() => attach(note, file, replace), { file: file.name });
    });
    upload.append(input);
    actions.append(
        button("Edit", () => run(() => edit(item, note.noteId, replace))),
        upload,
        button(
            "Delete",
            () =>
                run(async () => {
                    const { etag } = await current(note.noteId);
                    await deleteNote(note.noteId, etag);
                    etags.delete(note.noteId);
                    item.remove();
                    say("Note deleted.");
                }),
            "danger",
        ),
    );
    item.append(actions);
    return item;
}

/** The ETag this page holds for the note, or the current one (GET) when it has none yet. */
async function current(noteId: string): Promise<{ etag: string }> {
    const known = etags.get(noteId);
    if (known) return { etag: known };
    const { etag } = await getNote(noteId);
    etags.set(noteId, etag);
    return { etag };
}

/** Opens the note (GET: content and ETag), then saves with If-Match: a change made elsewhere meanwhile answers 412. */
async function edit(item: HTMLLIElement, noteId: string, replace: (note: Note) => void): Promise<void> {
    const { note, etag } = await getNote(noteId);
    etags.set(noteId, etag);
    const editor = document.createElement("form");
    editor.className = "editor";
    const text = document.createElement("textarea");
    text.name = "content";
    text.rows = 4;
    text.value = note.content;
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save";
    editor.append(text, save, button("Cancel", async () => replace(note)));
    editor.addEventListener("submit", (event) => {
        event.preventDefault();
        void busy(editor, async () => {
            try {
                const updated = await updateNote(noteId, { content: text.value }, etags.get(noteId));
                etags.set(noteId, updated.etag);
                quiet();
                replace(updated.note);
            } catch (error) {
                fail(error);
                if (explain(error).problem === "conflict") {
                    etags.delete(noteId);
                    editor.append(button("Reload the note", async () => replace((await getNote(noteId)).note)));
                }
            }
        });
    });
    item.querySelector(".content")!.replaceWith(editor);
    text.focus();
}

/** Uploads the file (never over an existing one), then points the note at it; the old file goes after. */
async function attach(note: Note, file: File, replace: (note: Note) => void): Promise<void> {
    const path = await uploadAttachment(note.noteId, file, (fraction) => say(`Uploading ${file.name}: ${Math.round(fraction * 100)}%`));
    let updated;
    try {
        updated = await updateNote(note.noteId, { attachment: path }, (await current(note.noteId)).etag);
    } catch (error) {
        await removeAttachment(path).catch(() => undefined);
        throw error;
    }
    etags.set(note.noteId, updated.etag);
    if (note.attachment && note.attachment !== path) await removeAttachment(note.attachment);
    say(`Attached ${file.name}.`);
    replace(updated.note);
}

function wireForms(): void {
    for (const link of document.querySelectorAll<HTMLAnchorElement>("[data-show]")) {
        link.addEventListener("click", (event) => {
            event.preventDefault();
            quiet();
            show(`#${link.dataset.show}` as (typeof views)[number]);
        });
    }

    const signInForm = $<HTMLFormElement>("#sign-in");
    signInForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const email = field(signInForm, "email");
        const password = field(signInForm, "password");
        void busy(signInForm, async () => {
            try {
                const { isSignedIn, nextStep } = await signIn({ username: email, password, options: { authFlowType: config.authFlowType } });
                if (!isSignedIn && nextStep.signInStep === "CONFIRM_SIGN_UP") {
                    pending = { email, password };
                    await resendSignUpCode({ username: email });
                    $("#confirm-email").textContent = email;
                    say("Your account is not confirmed yet: we emailed you a new code.");
                    show("#confirm");
                    return;
                }
                if (nextStep.signInStep === "RESET_PASSWORD") {
                    await sendResetCode(email);
                    say("You must choose a new password: we emailed you a code.");
                    return;
                }
                quiet();
                signInForm.reset();
                await continueSignIn(email, { isSignedIn, nextStep });
            } catch (error) {
                fail(error);
            }
        });
    });

    const signUpForm = $<HTMLFormElement>("#sign-up");
    signUpForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const email = field(signUpForm, "email");
        const password = field(signUpForm, "password");
        void busy(signUpForm, async () => {
            try {
                await signUp({ username: email, password, options: { userAttributes: { email } } });
                pending = { email, password };
                signUpForm.reset();
                $("#confirm-email").textContent = email;
                quiet();
                show("#confirm");
            } catch (error) {
                fail(error);
            }
        });
    });

    const confirmForm = $<HTMLFormElement>("#confirm");
    confirmForm.addEventListener("submit", (event) => {
        event.preventDefault();
        void busy(confirmForm, async () => {
            const { email, password } = pending!;
            try {
                await confirmSignUp({ username: email, confirmationCode: field(confirmForm, "code").trim() });
            } catch (error) {
                fail(error);
                return;
            }
            confirmForm.reset();
            pending = undefined;
            let result: SignInOutput;
            try {
                result = await signIn({ username: email, password, options: { authFlowType: config.authFlowType } });
            } catch (error) {
                // Cognito sends an unconfirmed account here whatever password was typed at sign-in: a wrong one fails only now.
                say(`Your email is confirmed. ${explain(error).text}`, "error");
                (signInForm.elements.namedItem("email") as HTMLInputElement).value = email;
                show("#sign-in");
                return;
            }
            say("Email confirmed. Welcome!");
            await continueSignIn(email, result).catch((error) => fail(error));
        });
    });
    $("#resend").addEventListener("click", () =>
        void busy(confirmForm, async () => {
            await resendSignUpCode({ username: pending!.email }).then(
                () => say("We emailed you a new code."),
                (error) => fail(error),
            );
        }),
    );

    const newNote = $<HTMLFormElement>("#new-note");
    newNote.addEventListener("submit", (event) => {
        event.preventDefault();
        void busy(newNote, async () => {
            try {
                const { note, etag } = await createNote(field(newNote, "content"));
                etags.set(note.noteId, etag);
                newNote.reset();
                quiet();
                $("#note-list").prepend(renderNote(note));
            } catch (error) {
                fail(error);
            }
        });
    });
    $("#more").addEventListener("click", () => void busy($("#notes"), () => loadMore().catch((error) => fail(error))));

    wireAccountFlows();

    $("#sign-out").addEventListener("click", () =>
        void (async () => {
            await signOut();
            etags.clear();
            say("Signed out.");
            show("#sign-in");
        })().catch((error) => fail(error)),
    );
}

/**
 * Finishes a sign-in: Cognito may ask for the authenticator app's code (`CONFIRM_SIGN_IN_WITH_TOTP_CODE`)
 * or, where the stack requires a second step, for setting the app up first (`CONTINUE_SIGN_IN_WITH_TOTP_SETUP`).
 */
async function continueSignIn(email: string, { isSignedIn, nextStep }: SignInOutput): Promise<void> {
    signingIn = email;
    if (isSignedIn) {
        signingIn = undefined;
        await enterNotes(email);
        return;
    }
    switch (nextStep.signInStep) {
        case "CONFIRM_SIGN_IN_WITH_TOTP_CODE":
            $<HTMLFormElement>("#mfa-code").reset();
            show("#mfa-code");
            $<HTMLInputElement>("#mfa-code input[name=code]").focus();
            return;
        case "CONTINUE_SIGN_IN_WITH_TOTP_SETUP":
            $<HTMLFormElement>("#mfa-setup").reset();
            renderTotpSetup($("#mfa-setup .totp-setup"), nextStep.totpSetupDetails, email);
            show("#mfa-setup");
            return;
        case "CONTINUE_SIGN_IN_WITH_MFA_SELECTION":
        case "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION":
            // The authenticator app is this stack's only second step.
            if (nextStep.allowedMFATypes?.includes("TOTP")) return continueSignIn(email, await confirmSignIn({ challengeResponse: "TOTP" }));
    }
    throw new Error(`Sign-in needs a step this client does not offer: ${nextStep.signInStep}`);
}

/** Asks Cognito to email a password reset code, then shows the form for the code and the new password. */
async function sendResetCode(email: string): Promise<void> {
    await resetPassword({ username: email });
    $("#reset-email").textContent = email;
    $<HTMLFormElement>("#reset").reset();
    show("#reset");
}

function wireAccountFlows(): void {
    const forgotForm = $<HTMLFormElement>("#forgot");
    let resetting = "";
    forgotForm.addEventListener("submit", (event) => {
        event.preventDefault();
        resetting = field(forgotForm, "email").trim();
        void busy(forgotForm, async () => {
            try {
                await sendResetCode(resetting);
                quiet();
            } catch (error) {
                fail(error);
            }
        });
    });
    const resetForm = $<HTMLFormElement>("#reset");
    resetForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const email = resetting || ($("#reset-email").textContent ?? "");
        void busy(resetForm, async () => {
            try {
                await confirmResetPassword({ username: email, confirmationCode: field(resetForm, "code").trim(), newPassword: field(resetForm, "password") });
            } catch (error) {
                fail(error);
                return;
            }
            resetForm.reset();
            forgotForm.reset();
            ($<HTMLFormElement>("#sign-in").elements.namedItem("email") as HTMLInputElement).value = email;
            say("Your password is changed. Sign in with the new one.");
            show("#sign-in");
        });
    });

    for (const id of ["#mfa-code", "#mfa-setup"]) {
        const form = $<HTMLFormElement>(id);
        form.addEventListener("submit", (event) => {
            event.preventDefault();
            void busy(form, async () => {
                try {
                    const result = await confirmSignIn({ challengeResponse: field(form, "code").trim() });
                    form.reset();
                    quiet();
                    await continueSignIn(signingIn!, result);
                } catch (error) {
                    fail(error, { totp: true });
                }
            });
        });
    }

    const account = new AccountView({
        say,
        fail,
        busy,
        mfa: () => config.mfa ?? "optional",
        emailChanged: (email) => ($("#who").textContent = email),
        signedOut: (text) => {
            etags.clear();
            say(text);
            show("#sign-in");
        },
    });
    account.wire();
    $("#show-account").addEventListener("click", () =>
        void (async () => {
            quiet();
            show("#account");
            await account.open();
        })().catch((error) => fail(error)),
    );
    $("#back-to-notes").addEventListener("click", () => void enterNotes($("#who").textContent ?? "").catch((error) => fail(error)));
}

/**
 * Locally, requests for the bucket's S3 host name must reach the local S3: a service worker
 * relays them through the web server. The page waits until the worker controls it, or Storage's
 * first request would go to the real host.
 */
async function relayS3(config: WebClientConfig): Promise<void> {
    if (!config.s3Relay) return;
    if (!("serviceWorker" in navigator)) throw new Error("This browser offers no service worker here; the local client needs one to reach the local S3.");
    const query = new URLSearchParams({ host: bucketHost(config), relay: config.s3Relay });
    await navigator.serviceWorker.register(`s3-relay-sw.js?${query}`, { scope: "./" });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
}

/** "Continue with <provider>" for each provider the stack configures (`oauth.providers`). */
function providerButtons(): void {
    const buttons = (config.oauth?.providers ?? []).map((provider) =>
        button(`Continue with ${provider}`, () => signInWithRedirect({ provider: { custom: provider } }).catch((error) => fail(error)), "provider"),
    );
    $("#providers").replaceChildren(...buttons);
    $("#providers").hidden = buttons.length === 0;
}

/** Back from the managed login (`?code=…`): Amplify exchanges the code; wait for its verdict. */
function redirectResult(): Promise<void> {
    if (!config.oauth || !new URLSearchParams(location.search).has("code") && !new URLSearchParams(location.search).has("error")) return Promise.resolve();
    return new Promise((resolve) => {
        // Never hang on "Loading": without a verdict in 15 s, carry on as signed out.
        const timer = setTimeout(() => {
            stop();
            resolve();
        }, 15_000);
        const stop = Hub.listen("auth", ({ payload }) => {
            if (payload.event === "signInWithRedirect" || payload.event === "signInWithRedirect_failure") clearTimeout(timer);
            if (payload.event === "signInWithRedirect") {
                stop();
                resolve();
            } else if (payload.event === "signInWithRedirect_failure") {
                stop();
                say(`Sign-in with the provider failed: ${(payload.data as { error?: Error })?.error?.message ?? "unknown error"}`, "error");
                resolve();
            }
        });
    });
}

/**
 * The stack's configuration, from index.html's JSON data block (web/build.ts): no request for it,
 * so the Content-Security-Policy's `connect-src` lists only the stack's own endpoints, not `'self'`.
 */
function embeddedConfig(): WebClientConfig {
    const block = document.getElementById(CONFIG_ELEMENT_ID);
    if (!(block instanceof HTMLScriptElement) || block.type !== "application/json") {
        throw new Error(`index.html has no <script type="application/json" id="${CONFIG_ELEMENT_ID}">; build the client with npm run web:build, or use npm start`);
    }
    return parseClientConfig(JSON.parse(block.textContent ?? ""));
}

async function main(): Promise<void> {
    wireForms();
    show("#loading");
    try {
        config = embeddedConfig();
        await relayS3(config);
        const redirected = redirectResult();
        Amplify.configure(amplifyConfig(config));
        providerButtons();
        await redirected;
    } catch (error) {
        show("#loading");
        say(`This client is not configured: ${(error as Error).message}`, "error");
        return;
    }
    let user;
    try {
        user = await getCurrentUser();
    } catch {
        show("#sign-in");
        return;
    }
    // A provider's user has no sign-in id of their own: show their email.
    const label = user.signInDetails?.loginId ?? (await fetchUserAttributes().catch(() => undefined))?.email ?? user.username;
    await enterNotes(label).catch((error) => fail(error));
}

void main();
