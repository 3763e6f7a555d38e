/**
 * The account view: change password, change email (kept until the new one is confirmed), the
 * authenticator app (TOTP), sign out everywhere, and deleting the account with all its data.
 */
import {
    type SetUpTOTPOutput as AuthTOTPSetupDetails,
    confirmUserAttribute,
    fetchMFAPreference,
    fetchUserAttributes,
    setUpTOTP,
    signOut,
    updateMFAPreference,
    updatePassword,
    updateUserAttribute,
    verifyTOTPSetup,
} from "aws-amplify/auth";
import { eraseAccount, totpSetupUri } from "./account";
import type { MfaSetting } from "./config";
import type { ErrorContext } from "./messages";
import { qrModules, qrPath } from "./qr";
import { $ } from "./views";

/** What the page lends the view: its message line, its error handling, its form helpers. */
export interface AccountViewDeps {
    say(text: string, kind?: "info" | "error"): void;
    fail(error: unknown, context?: ErrorContext): void;
    busy(element: HTMLElement, work: () => Promise<void>): Promise<void>;
    /** The stack's mfa setting (config.json). */
    mfa(): MfaSetting;
    /** The email changed: the header shows the new one. */
    emailChanged(email: string): void;
    /** The session ended (signed out everywhere, or the account deleted): back to sign-in. */
    signedOut(text: string): void;
}

/** The word to type before the account is deleted. */
export const DELETE_CONFIRMATION = "DELETE";


function field(form: HTMLFormElement, name: string): string {
    return (form.elements.namedItem(name) as HTMLInputElement).value;
}

const SVG = "http://www.w3.org/2000/svg";

/** `text`'s QR code as an SVG element built with DOM calls: no markup parsed, nothing a strict CSP refuses. */
function qrCodeSvg(text: string, label: string): SVGSVGElement {
    const modules = qrModules(text);
    const size = String(modules.length);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("shape-rendering", "crispEdges");
    const background = document.createElementNS(SVG, "rect");
    background.setAttribute("width", size);
    background.setAttribute("height", size);
    background.setAttribute("fill", "#fff");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", qrPath(modules));
    path.setAttribute("fill", "#000");
    svg.append(background, path);
    return svg;
}

/** Fills `container` with what an authenticator app needs: a QR code, the secret key, the otpauth:// URI. */
export function renderTotpSetup(container: HTMLElement, details: AuthTOTPSetupDetails, email: string): void {
    const uri = totpSetupUri(details, email);
    const scan = document.createElement("p");
    scan.textContent = "Scan this QR code with your authenticator app:";
    const qr = document.createElement("div");
    qr.className = "totp-qr";
    qr.append(qrCodeSvg(uri, "QR code for your authenticator app"));
    const key = document.createElement("p");
    key.append("Or enter this key: ");
    const secret = document.createElement("code");
    secret.className = "totp-secret";
    secret.textContent = details.sharedSecret;
    key.append(secret);
    const link = document.createElement("p");
    link.append("Setup link: ");
    const a = document.createElement("a");
    a.className = "totp-uri";
    a.href = uri;
    a.textContent = uri;
    link.append(a);
    container.replaceChildren(scan, qr, key, link);
}

export class AccountView {
    private email = "";

    constructor(private readonly ui: AccountViewDeps) {}

    /** Loads the current email and the second step's state into the view. */
    async open(): Promise<void> {
        for (const form of ["#change-password", "#change-email", "#confirm-email-change", "#mfa-verify", "#delete-account"]) $<HTMLFormElement>(form).reset();
        $("#confirm-email-change").hidden = true;
        $("#mfa-verify").hidden = true;
        $("#delete-progress").hidden = true;
        const attributes = await fetchUserAttributes();
        this.email = attributes.email ?? "";
        $("#current-email").textContent = this.email;
        await this.showMfa();
    }

    private async showMfa(): Promise<void> {
        const setting = this.ui.mfa();
        const start = $("#mfa-start");
        const disable = $("#mfa-disable");
        start.hidden = disable.hidden = true;
        $("#mfa-verify").hidden = true;
        if (setting === "off") {
            $("#mfa-status").textContent = "This app does not offer two-step verification.";
            return;
        }
        const preference = await fetchMFAPreference();
        const on = preference.enabled?.includes("TOTP") ?? false;
        if (on) {
            $("#mfa-status").textContent =
                setting === "required"
                    ? "On: sign-in asks for a code from your authenticator app. This app requires it."
                    : "On: sign-in asks for a code from your authenticator app.";
            disable.hidden = setting === "required";
        } else {
            $("#mfa-status").textContent = "Off: sign-in asks only for your password.";
            start.hidden = false;
        }
    }

    wire(): void {
        const { ui } = this;

        const passwordForm = $<HTMLFormElement>("#change-password");
        passwordForm.addEventListener("submit", (event) => {
            event.preventDefault();
            void ui.busy(passwordForm, async () => {
                try {
                    await updatePassword({ oldPassword: field(passwordForm, "current"), newPassword: field(passwordForm, "password") });
                    passwordForm.reset();
                    ui.say("Your password is changed.");
                } catch (error) {
                    ui.fail(error, { currentPassword: true });
                }
            });
        });

        const emailForm = $<HTMLFormElement>("#change-email");
        const confirmForm = $<HTMLFormElement>("#confirm-email-change");
        let newEmail = "";
        emailForm.addEventListener("submit", (event) => {
            event.preventDefault();
            void ui.busy(emailForm, async () => {
                try {
                    newEmail = field(emailForm, "email").trim();
                    const { nextStep } = await updateUserAttribute({ userAttribute: { attributeKey: "email", value: newEmail } });
                    if (nextStep.updateAttributeStep === "DONE") return this.emailDone(newEmail);
                    $("#new-email").textContent = newEmail;
                    confirmForm.hidden = false;
                    ui.say(`We emailed a code to ${newEmail}. Until you confirm it, you still sign in with ${this.email}.`);
                } catch (error) {
                    ui.fail(error);
                }
            });
        });
        confirmForm.addEventListener("submit", (event) => {
            event.preventDefault();
            void ui.busy(confirmForm, async () => {
                try {
                    await confirmUserAttribute({ userAttributeKey: "email", confirmationCode: field(confirmForm, "code").trim() });
                    confirmForm.reset();
                    confirmForm.hidden = true;
                    emailForm.reset();
                    this.emailDone(newEmail);
                } catch (error) {
                    ui.fail(error);
                }
            });
        });

        const verifyForm = $<HTMLFormElement>("#mfa-verify");
        $("#mfa-start").addEventListener("click", () =>
            void ui.busy($("#mfa"), async () => {
                try {
                    const details = await setUpTOTP();
                    renderTotpSetup(verifyForm.querySelector<HTMLElement>(".totp-setup")!, details, this.email);
                    $("#mfa-start").hidden = true;
                    verifyForm.hidden = false;
                    (verifyForm.elements.namedItem("code") as HTMLInputElement).focus();
                } catch (error) {
                    ui.fail(error);
                }
            }),
        );
        verifyForm.addEventListener("submit", (event) => {
            event.preventDefault();
            void ui.busy(verifyForm, async () => {
                try {
                    await verifyTOTPSetup({ code: field(verifyForm, "code").trim() });
                    await updateMFAPreference({ totp: "PREFERRED" });
                    verifyForm.reset();
                    await this.showMfa();
                    ui.say("Two-step verification is on: sign-in now asks for a code from your authenticator app.");
                } catch (error) {
                    ui.fail(error, { totp: true });
                }
            });
        });
        $("#mfa-disable").addEventListener("click", () =>
            void ui.busy($("#mfa"), async () => {
                try {
                    await updateMFAPreference({ totp: "DISABLED" });
                    await this.showMfa();
                    ui.say("Two-step verification is off.");
                } catch (error) {
                    ui.fail(error);
                }
            }),
        );

        $("#sign-out-everywhere").addEventListener("click", () =>
            void ui.busy($("#account"), async () => {
                await signOut({ global: true });
                ui.signedOut("Signed out on every device.");
            }),
        );

        const deleteForm = $<HTMLFormElement>("#delete-account");
        deleteForm.addEventListener("submit", (event) => {
            event.preventDefault();
            if (field(deleteForm, "confirmation").trim() !== DELETE_CONFIRMATION) {
                ui.say(`Type ${DELETE_CONFIRMATION} to confirm. Nothing was deleted.`, "error");
                return;
            }
            void ui.busy($("#account"), async () => {
                const progress = $<HTMLProgressElement>("#delete-progress");
                progress.hidden = false;
                progress.removeAttribute("value");
                ui.say("Deleting your account and all your data…");
                try {
                    await eraseAccount((progress) => ui.say(`Deleting your account and all your data… (${progress.describe()})`));
                } catch (error) {
                    progress.hidden = true;
                    ui.fail(error);
                    return;
                }
                progress.hidden = true;
                deleteForm.reset();
                // The user is gone: the local sign-out only forgets the tokens (Amplify ignores the refused revocation).
                await signOut();
                ui.signedOut("Your account and all your data are deleted.");
            });
        });
    }

    private emailDone(email: string): void {
        this.email = email;
        $("#current-email").textContent = email;
        this.ui.emailChanged(email);
        this.ui.say(`Your email is now ${email}. Sign in with it from now on.`);
    }
}
