/**
 * QR codes for the authenticator app's setup URI: `uqr` encodes, this module turns the modules into
 * one SVG path. No DOM here (the Node tests decode the modules); the page builds the element.
 */
import { encode } from "uqr";

/** The modules of `text`'s QR code (error correction M), with the 4-module quiet zone around them. */
export function qrModules(text: string): boolean[][] {
    return encode(text, { ecc: "M", border: 4 }).data;
}

/** An SVG path (`d`) drawing each dark module as a 1×1 square, in a `0 0 size size` view box. */
export function qrPath(modules: boolean[][]): string {
    let d = "";
    modules.forEach((row, y) => row.forEach((dark, x) => dark && (d += `M${x} ${y}h1v1h-1z`)));
    return d;
}
