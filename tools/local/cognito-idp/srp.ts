import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The server half of Cognito's SRP-6a (`USER_SRP_AUTH`, then the `PASSWORD_VERIFIER` challenge), as
 * the client code that signs in against Cognito computes it: `amazon-cognito-identity-js`'s
 * `AuthenticationHelper` and Amplify JS v6's `providers/cognito/utils/srp`. Those clients are the
 * specification; the tests sign in with both.
 *
 * - N: the 3072-bit group of RFC 5054 (appendix A), g = 2, k = H(PAD(N) | PAD(g));
 * - x = H(PAD(salt) | H(poolName | userIdForSrp | ":" | password)), v = g^x, where poolName is the
 *   part of the pool id after `_`;
 * - B = k·v + g^b, u = H(PAD(A) | PAD(B)), S = (A·v^u)^b;
 * - the key is HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key"), 16 bytes;
 * - the client proves it with HMAC-SHA256(key, poolName | userIdForSrp | secretBlock | timestamp).
 *
 * PAD is the clients' `padHex`: the shortest two's-complement big-endian encoding (a leading 00 byte
 * when the top bit is set), not a fixed width. The local User Pools keep passwords, not verifiers,
 * so v is derived from the stored password with a fresh salt for every sign-in.
 */
const N = BigInt(
    "0x" +
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" +
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05" +
        "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33" +
        "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864" +
        "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
const G = 2n;
const INFO = Buffer.from("Caldera Derived Key", "utf8");

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
    let result = 1n;
    let b = ((base % modulus) + modulus) % modulus;
    let e = exponent;
    while (e > 0n) {
        if (e & 1n) result = (result * b) % modulus;
        b = (b * b) % modulus;
        e >>= 1n;
    }
    return result;
}

/** The clients' `padHex`, for the non-negative values SRP uses. */
function padHex(value: bigint): string {
    let hex = value.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    return /^[89a-f]/i.test(hex) ? `00${hex}` : hex;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest();
const hexHash = (hex: string) => sha256(Buffer.from(hex, "hex")).toString("hex");
const toBigInt = (hex: string) => BigInt(`0x${hex}`);

const K = toBigInt(hexHash(padHex(N) + padHex(G)));

/** The part of a pool id after `_` (`us-east-1_AbC` → `AbC`), which Cognito's SRP hashes in. */
export function srpPoolName(userPoolId: string): string {
    return userPoolId.slice(userPoolId.indexOf("_") + 1);
}

/** What the server keeps between `InitiateAuth` and the `PASSWORD_VERIFIER` answer. */
export interface SrpState {
    /** USER_ID_FOR_SRP: the user's user name (a UUID in pools that sign in with email). */
    userIdForSrp: string;
    /** The key both sides derive, base64; the client's signature is checked with it. */
    key: string;
    /** SECRET_BLOCK as sent (base64). */
    secretBlock: string;
}

export interface SrpChallenge {
    /** The `PASSWORD_VERIFIER` challenge parameters Cognito sends. */
    parameters: { SALT: string; SECRET_BLOCK: string; SRP_B: string; USERNAME: string; USER_ID_FOR_SRP: string };
    state: SrpState;
}

/**
 * The server's answer to SRP_A: undefined when A is no valid public value (A mod N = 0, or not hex),
 * which Cognito refuses.
 */
export function srpChallenge(options: { userPoolId: string; userIdForSrp: string; password: string; srpA: string }): SrpChallenge | undefined {
    if (!/^[0-9a-fA-F]{1,1024}$/.test(options.srpA)) return undefined;
    const A = toBigInt(options.srpA);
    if (A % N === 0n) return undefined;
    const poolName = srpPoolName(options.userPoolId);
    const salt = toBigInt(randomBytes(16).toString("hex"));
    const passwordHash = sha256(`${poolName}${options.userIdForSrp}:${options.password}`).toString("hex");
    const x = toBigInt(hexHash(padHex(salt) + passwordHash));
    const v = modPow(G, x, N);
    let b: bigint;
    let B: bigint;
    do {
        b = toBigInt(randomBytes(32).toString("hex"));
        B = (K * v + modPow(G, b, N)) % N;
    } while (B === 0n);
    const u = toBigInt(hexHash(padHex(A) + padHex(B)));
    const S = modPow(A * modPow(v, u, N), b, N);
    const prk = createHmac("sha256", Buffer.from(padHex(u), "hex")).update(Buffer.from(padHex(S), "hex")).digest();
    const key = createHmac("sha256", prk).update(Buffer.concat([INFO, Buffer.from([1])])).digest().subarray(0, 16);
    const secretBlock = randomBytes(64).toString("base64");
    return {
        parameters: { SALT: salt.toString(16), SECRET_BLOCK: secretBlock, SRP_B: B.toString(16), USERNAME: options.userIdForSrp, USER_ID_FOR_SRP: options.userIdForSrp },
        state: { userIdForSrp: options.userIdForSrp, key: key.toString("base64"), secretBlock },
    };
}

/** Whether the `PASSWORD_VERIFIER` answer proves the password: the same secret block, and the signature over it. */
export function verifyPasswordClaim(userPoolId: string, state: SrpState, responses: { PASSWORD_CLAIM_SECRET_BLOCK?: string; PASSWORD_CLAIM_SIGNATURE?: string; TIMESTAMP?: string }): boolean {
    const { PASSWORD_CLAIM_SECRET_BLOCK: block, PASSWORD_CLAIM_SIGNATURE: signature, TIMESTAMP: timestamp } = responses;
    if (typeof block !== "string" || typeof signature !== "string" || typeof timestamp !== "string" || block !== state.secretBlock) return false;
    const expected = createHmac("sha256", Buffer.from(state.key, "base64"))
        .update(Buffer.concat([Buffer.from(srpPoolName(userPoolId), "utf8"), Buffer.from(state.userIdForSrp, "utf8"), Buffer.from(block, "base64"), Buffer.from(timestamp, "utf8")]))
        .digest();
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
}
