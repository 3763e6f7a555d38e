import { Secret, TOTP } from "otpauth";

/**
 * TOTP as Cognito's software token MFA uses it: RFC 6238 with HMAC-SHA1, 6 digits and a 30-second
 * step, a 160-bit secret as base32 (`SecretCode`, 32 characters), and one step of tolerance either
 * side of the server's clock (RFC 6238 §5.2's recommendation, what authenticator apps assume).
 * A code is accepted once: the step it matched is remembered, and a code of that step or an
 * earlier one is refused ("Your software token has already been used once.").
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_WINDOW_STEPS = 1;

function totp(secret: string): TOTP {
    return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: TOTP_PERIOD_SECONDS });
}

/** A new shared secret, base32 as Cognito's `AssociateSoftwareToken` returns it. */
export function newTotpSecret(): string {
    return new Secret({ size: 20 }).base32;
}

/**
 * The 6-digit code an authenticator app shows for `secret` at `time` (ms, default now). Tests and
 * tools that sign in with TOTP against the local cloud compute their codes with it.
 */
export function totpCode(secret: string, time = Date.now()): string {
    return totp(secret).generate({ timestamp: time });
}

/** The time step `code` belongs to, within the window around `time`; undefined when it matches none. */
export function totpStep(secret: string, code: string, time = Date.now()): number | undefined {
    if (!/^\d{6}$/.test(code)) return undefined;
    let generator: TOTP;
    try {
        generator = totp(secret);
    } catch {
        return undefined;
    }
    const delta = generator.validate({ token: code, timestamp: time, window: TOTP_WINDOW_STEPS });
    return delta === null ? undefined : Math.floor(time / 1000 / TOTP_PERIOD_SECONDS) + delta;
}
