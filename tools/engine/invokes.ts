/**
 * What the mock engine answers to an invoke (a data source call): the pure functions of their
 * inputs exactly as the provider computes them, the caller-identity family from the stack's
 * account and region, and anything else only from an answers file the team gives
 * (`--invoke-answers`). A lookup that needs the cloud and has no given answer is refused, and
 * recorded, so the run fails closed instead of going on without it.
 */
import { existsSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { POLICY_DOCUMENT_TOKEN, PolicyDocumentError, renderPolicyDocument } from "./policy-document";

/** One given answer: the outputs for an invoke called with exactly these inputs (any inputs when omitted). */
export interface InvokeAnswer {
    inputs?: Record<string, unknown>;
    outputs: Record<string, unknown>;
}

/** `--invoke-answers` file: invoke token -> its answers (one, or a list matched by inputs). */
export type InvokeAnswers = Record<string, InvokeAnswer[]>;

/** An invoke the run could not answer, or whose answer was an error: the run is incomplete. */
export interface InvokeFailure {
    token: string;
    inputs: Record<string, unknown>;
    kind: "unanswered" | "rejected";
    message: string;
}

/** A bad answers file: the message names the file and what is wrong. */
export class InvokeAnswersError extends Error {}

/** Reads and checks an answers file: `{ "<token>": [{ "inputs": {...}, "outputs": {...} }] }` (a single answer may stand without the list). */
export function readInvokeAnswers(file: string): InvokeAnswers {
    if (!existsSync(file)) throw new InvokeAnswersError(`--invoke-answers: no file ${file}.`);
    let raw: unknown;
    try {
        raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new InvokeAnswersError(`--invoke-answers: ${file} is not valid JSON (${(error as Error).message}).`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new InvokeAnswersError(`--invoke-answers: ${file} must hold an object keyed by invoke token.`);
    const answers: InvokeAnswers = {};
    for (const [token, value] of Object.entries(raw as Record<string, unknown>)) {
        if (!/^[\w-]+:[\w/.-]*:\w+$/.test(token)) throw new InvokeAnswersError(`--invoke-answers: ${JSON.stringify(token)} in ${file} is not an invoke token (like aws:ec2/getAmi:getAmi).`);
        const list = Array.isArray(value) ? value : [value];
        answers[token] = list.map((answer, index) => {
            const where = `${token}[${index}] in ${file}`;
            if (answer === null || typeof answer !== "object" || Array.isArray(answer)) throw new InvokeAnswersError(`--invoke-answers: ${where} must be an object with "outputs" (and optionally "inputs").`);
            const { inputs, outputs, ...rest } = answer as Record<string, unknown>;
            const extra = Object.keys(rest);
            if (extra.length > 0) throw new InvokeAnswersError(`--invoke-answers: ${where} has unknown field ${extra[0]}: an answer has "inputs" and "outputs".`);
            if (outputs === null || typeof outputs !== "object" || Array.isArray(outputs)) throw new InvokeAnswersError(`--invoke-answers: ${where} needs "outputs", an object.`);
            if (inputs !== undefined && (inputs === null || typeof inputs !== "object" || Array.isArray(inputs))) throw new InvokeAnswersError(`--invoke-answers: ${where} has "inputs" that is not an object.`);
            return { ...(inputs === undefined ? {} : { inputs: inputs as Record<string, unknown> }), outputs: outputs as Record<string, unknown> };
        });
    }
    return answers;
}

/** Inputs as JSON would carry them: undefined members dropped. */
const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** The given answer for this call: the first whose inputs equal the call's, else the first without inputs. */
export function findAnswer(answers: InvokeAnswers | undefined, token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
    const list = answers?.[token];
    if (!list) return undefined;
    const called = plain(inputs ?? {});
    return (list.find((answer) => answer.inputs !== undefined && isDeepStrictEqual(plain(answer.inputs), called)) ?? list.find((answer) => answer.inputs === undefined))?.outputs;
}

export interface InvokeEnvironment {
    region: string;
    accountId: string;
}

/** Pure invokes (no cloud needed), answered as the provider does; undefined when the token is not one. */
export function pureInvoke(token: string, inputs: Record<string, unknown>, { region, accountId }: InvokeEnvironment): Record<string, unknown> | undefined {
    switch (token) {
        case POLICY_DOCUMENT_TOKEN:
            return renderPolicyDocument(inputs);
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId, arn: `arn:${partitionOf(region).partition}:iam::${accountId}:user/mock`, userId: "AIDAMOCK", id: accountId };
        case "aws:index/getRegion:getRegion": {
            // A region asked for by name is that region; otherwise the provider's (the stack's).
            const asked = typeof inputs.region === "string" ? inputs.region : typeof inputs.name === "string" ? inputs.name : region;
            return { region: asked, name: asked, id: asked, endpoint: `ec2.${asked}.${partitionOf(asked).dnsSuffix}`, description: asked };
        }
        case "aws:index/getPartition:getPartition": {
            const partition = partitionOf(region);
            return { ...partition, id: partition.partition };
        }
        case "aws:index/getArn:getArn":
            return parseArn(inputs.arn);
        default:
            return undefined;
    }
}

/** The partition a region belongs to (the provider's partition data, for the partitions in use). */
function partitionOf(region: string): { partition: string; dnsSuffix: string; reverseDnsPrefix: string } {
    if (region.startsWith("cn-")) return { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn", reverseDnsPrefix: "cn.com.amazonaws" };
    if (region.startsWith("us-gov-")) return { partition: "aws-us-gov", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
}

/** `getArn`: an ARN's parts, as the provider's parser splits them (`arn:partition:service:region:account:resource`). */
function parseArn(arn: unknown): Record<string, unknown> {
    const parts = typeof arn === "string" ? arn.split(":") : [];
    if (parts.length < 6 || parts[0] !== "arn" || parts[1] === "" || parts[2] === "") throw new ArnError(`invalid ARN (${String(arn)}): arn: invalid prefix or missing sections`);
    return { arn, id: arn, partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(":") };
}

/** The provider refused an ARN it could not parse. */
class ArnError extends Error {}

/** True for an error the provider itself would raise for these inputs (the invoke is rejected, as under the CLI). */
export const isProviderError = (error: unknown): error is Error => error instanceof PolicyDocumentError || error instanceof ArnError;

/** How a team answers an invoke offline: the file entry to add, with the inputs of this call. */
export function answerHint(token: string, inputs: Record<string, unknown>): string {
    const entry = { [token]: [{ inputs: plain(inputs ?? {}), outputs: { "…": "the fields the program reads" } }] };
    return `give its answer with --invoke-answers <file.json>, a file like ${JSON.stringify(entry)}`;
}

/** One line per failed invoke, for the exit-2 message. */
export function describeInvokeFailure(failure: InvokeFailure): string {
    return failure.kind === "unanswered"
        ? `the program calls the invoke ${failure.token}, a lookup that needs the cloud, and no answer was given: ${answerHint(failure.token, failure.inputs)}.`
        : `the invoke ${failure.token} was rejected: ${failure.message}`;
}
