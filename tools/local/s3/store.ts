import { createHash, randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, copyFileSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";

/** What S3 keeps beside an object's bytes and sends back as headers. */
export interface ObjectAttributes {
    contentType?: string;
    contentEncoding?: string;
    contentLanguage?: string;
    contentDisposition?: string;
    cacheControl?: string;
    expires?: string;
    /** `x-amz-meta-*` headers, names lowercased and without the prefix. */
    metadata: Record<string, string>;
}

/** A flexible checksum as S3 stores it (`x-amz-checksum-<algorithm>`, base64). */
export interface StoredChecksum {
    algorithm: "CRC32" | "CRC32C" | "CRC64NVME" | "SHA1" | "SHA256";
    value: string;
}

export interface StoredObject extends ObjectAttributes {
    key: string;
    size: number;
    /** Quoted, as S3 sends it. */
    etag: string;
    /** Epoch milliseconds. */
    lastModified: number;
    checksum?: StoredChecksum;
    /** Data file name, generated; never derived from the key. */
    file: string;
}

export interface StoredPart {
    partNumber: number;
    etag: string;
    size: number;
    lastModified: number;
    checksum?: StoredChecksum;
    file: string;
}

export interface MultipartUpload {
    uploadId: string;
    bucket: string;
    key: string;
    initiated: number;
    attributes: ObjectAttributes;
    checksumAlgorithm?: StoredChecksum["algorithm"];
    parts: Map<number, StoredPart>;
    /** Directory of this upload's parts, generated. */
    dir: string;
}

/** S3's smallest part except the last (5 MiB). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The store's upload ids: 64 base64url characters, generated here, never chosen by a client. */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{64}$/;

function sha256(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Writes a file under a temporary name, then renames it into place: readers see all or nothing. */
function writeAtomic(file: string, data: string | Buffer): void {
    const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(temporary, data);
    renameSync(temporary, file);
}

interface BucketState {
    dir: string;
    objects: Map<string, StoredObject>;
    /** Keys in S3's order (UTF-8 bytes), rebuilt on the next listing after a change. */
    sorted?: string[];
}

/**
 * The local S3's object store. No file name is ever derived from a request: a bucket lives in
 * `<root>/<sha256(bucket)>/`, an object's metadata in `objects/<sha256(key)>.json` beside its
 * bytes in `data/<uuid>`, a multipart upload in `uploads/<sha256(uploadId)>/` with its parts under
 * generated names. Every write goes to a temporary file and is renamed into place, so a crash
 * leaves the previous version or the new one, never a torn one; every operation is synchronous, so
 * a check and the write that depends on it (`If-None-Match: *`) cannot interleave with another
 * request. Keys are any string S3 accepts (the store holds a 1,024-byte key or a 1,000-byte
 * segment alike). An in-memory index answers lookups and listings; it is rebuilt from the
 * metadata files at start.
 */
export class ObjectStore {
    private readonly buckets = new Map<string, BucketState>();
    private readonly uploads = new Map<string, MultipartUpload>();

    constructor(private readonly root: string) {
        mkdirSync(root, { recursive: true });
    }

    /** Creates the bucket (idempotent) and loads what an earlier run stored in it. */
    createBucket(bucket: string): void {
        if (this.buckets.has(bucket)) return;
        const dir = path.join(this.root, sha256(bucket));
        for (const sub of ["objects", "data", "uploads"]) mkdirSync(path.join(dir, sub), { recursive: true });
        writeAtomic(path.join(dir, "bucket.json"), `${JSON.stringify({ name: bucket })}\n`);
        const state: BucketState = { dir, objects: new Map() };
        this.buckets.set(bucket, state);
        this.load(bucket, state);
    }

    hasBucket(bucket: string): boolean {
        return this.buckets.has(bucket);
    }

    private bucket(bucket: string): BucketState {
        const state = this.buckets.get(bucket);
        if (!state) throw new Error(`bucket ${bucket} does not exist in the store`);
        return state;
    }

    /** Rebuilds the index from metadata files; removes data files no metadata names (a crash mid-write). */
    private load(bucket: string, state: BucketState): void {
        const referenced = new Set<string>();
        for (const entry of readdirSync(path.join(state.dir, "objects"))) {
            const file = path.join(state.dir, "objects", entry);
            if (!entry.endsWith(".json")) {
                rmSync(file, { force: true });
                continue;
            }
            const object = JSON.parse(readFileSync(file, "utf8")) as StoredObject;
            state.objects.set(object.key, object);
            referenced.add(object.file);
        }
        for (const entry of readdirSync(path.join(state.dir, "data"))) {
            if (!referenced.has(entry)) rmSync(path.join(state.dir, "data", entry), { force: true });
        }
        for (const entry of readdirSync(path.join(state.dir, "uploads"))) {
            const dir = path.join(state.dir, "uploads", entry);
            const manifest = path.join(dir, "upload.json");
            if (!existsSync(manifest)) {
                rmSync(dir, { recursive: true, force: true });
                continue;
            }
            const saved = JSON.parse(readFileSync(manifest, "utf8")) as Omit<MultipartUpload, "parts" | "dir">;
            const upload: MultipartUpload = { ...saved, bucket, parts: new Map(), dir };
            const partFiles = new Set<string>();
            for (const name of readdirSync(dir)) {
                if (!name.endsWith(".part.json")) continue;
                const part = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as StoredPart;
                const existing = upload.parts.get(part.partNumber);
                if (!existing || existing.lastModified <= part.lastModified) upload.parts.set(part.partNumber, part);
            }
            for (const part of upload.parts.values()) partFiles.add(part.file).add(`${part.file}.json`);
            for (const name of readdirSync(dir)) if (name !== "upload.json" && !partFiles.has(name)) rmSync(path.join(dir, name), { force: true });
            this.uploads.set(upload.uploadId, upload);
        }
    }

    head(bucket: string, key: string): StoredObject | undefined {
        return this.bucket(bucket).objects.get(key);
    }

    /**
     * The object's bytes (or the inclusive range `[start, end]` of them) as a stream. The
     * file is opened before this returns, so a write that replaces the object afterwards does not
     * cut the answer short.
     */
    stream(bucket: string, object: StoredObject, range?: { start: number; end: number }): Readable {
        const fd = openSync(path.join(this.bucket(bucket).dir, "data", object.file), "r");
        return createReadStream("", { fd, start: range?.start, end: range?.end, autoClose: true });
    }

    put(bucket: string, key: string, body: Buffer, attributes: ObjectAttributes, checksum?: StoredChecksum): StoredObject {
        const state = this.bucket(bucket);
        const file = randomUUID();
        writeFileSync(path.join(state.dir, "data", file), body);
        const etag = `"${createHash("md5").update(body).digest("hex")}"`;
        return this.commit(state, { ...attributes, key, size: body.length, etag, lastModified: Date.now(), checksum, file });
    }

    /** Copies an object's bytes (possibly from another bucket) to a key, with the attributes given. */
    copy(sourceBucket: string, source: StoredObject, bucket: string, key: string, attributes: ObjectAttributes): StoredObject {
        const state = this.bucket(bucket);
        const file = randomUUID();
        copyFileSync(path.join(this.bucket(sourceBucket).dir, "data", source.file), path.join(state.dir, "data", file));
        return this.commit(state, { ...attributes, key, size: source.size, etag: source.etag, lastModified: Date.now(), checksum: source.checksum, file });
    }

    /** Makes `object` the key's current version (metadata renamed into place), then drops the old bytes. */
    private commit(state: BucketState, object: StoredObject): StoredObject {
        writeAtomic(path.join(state.dir, "objects", `${sha256(object.key)}.json`), JSON.stringify(object));
        const previous = state.objects.get(object.key);
        state.objects.set(object.key, object);
        if (!previous) state.sorted = undefined;
        if (previous && previous.file !== object.file) rmSync(path.join(state.dir, "data", previous.file), { force: true });
        return object;
    }

    /** Deletes the key; true when it existed. */
    delete(bucket: string, key: string): boolean {
        const state = this.bucket(bucket);
        const object = state.objects.get(key);
        if (!object) return false;
        rmSync(path.join(state.dir, "objects", `${sha256(key)}.json`), { force: true });
        rmSync(path.join(state.dir, "data", object.file), { force: true });
        state.objects.delete(key);
        state.sorted = undefined;
        return true;
    }

    /** Every key in S3's listing order: by UTF-8 bytes. */
    keys(bucket: string): readonly string[] {
        const state = this.bucket(bucket);
        state.sorted ??= [...state.objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        return state.sorted;
    }

    createUpload(bucket: string, key: string, attributes: ObjectAttributes, checksumAlgorithm?: StoredChecksum["algorithm"]): MultipartUpload {
        const state = this.bucket(bucket);
        const uploadId = randomBytes(48).toString("base64url");
        const dir = path.join(state.dir, "uploads", sha256(uploadId));
        mkdirSync(dir);
        const upload: MultipartUpload = { uploadId, bucket, key, initiated: Date.now(), attributes, checksumAlgorithm, parts: new Map(), dir };
        const { parts: _parts, dir: _dir, ...manifest } = upload;
        writeAtomic(path.join(dir, "upload.json"), JSON.stringify(manifest));
        this.uploads.set(uploadId, upload);
        return upload;
    }

    /** The upload with this id in this bucket and for this key; undefined otherwise (S3: NoSuchUpload). */
    upload(bucket: string, key: string, uploadId: string): MultipartUpload | undefined {
        const upload = this.uploads.get(uploadId);
        return upload && upload.bucket === bucket && upload.key === key ? upload : undefined;
    }

    putPart(upload: MultipartUpload, partNumber: number, body: Buffer, checksum?: StoredChecksum): StoredPart {
        const file = `${randomUUID()}.part`;
        writeFileSync(path.join(upload.dir, file), body);
        const part: StoredPart = { partNumber, etag: `"${createHash("md5").update(body).digest("hex")}"`, size: body.length, lastModified: Date.now(), checksum, file };
        writeAtomic(path.join(upload.dir, `${file}.json`), JSON.stringify(part));
        const previous = upload.parts.get(partNumber);
        upload.parts.set(partNumber, part);
        if (previous) {
            rmSync(path.join(upload.dir, previous.file), { force: true });
            rmSync(path.join(upload.dir, `${previous.file}.json`), { force: true });
        }
        return part;
    }

    /** Joins the listed parts into the object (ETag `"<md5 of the parts' md5s>-<n>"`), then drops the upload. */
    completeUpload(upload: MultipartUpload, partNumbers: number[]): StoredObject {
        const state = this.bucket(upload.bucket);
        const file = randomUUID();
        const target = path.join(state.dir, "data", file);
        writeFileSync(target, Buffer.alloc(0));
        const digests: Buffer[] = [];
        let size = 0;
        for (const number of partNumbers) {
            const part = upload.parts.get(number)!;
            appendFileSync(target, readFileSync(path.join(upload.dir, part.file)));
            digests.push(Buffer.from(part.etag.replace(/"/g, ""), "hex"));
            size += part.size;
        }
        const etag = `"${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${partNumbers.length}"`;
        if (statSync(target).size !== size) throw new Error(`multipart upload ${upload.uploadId}: joined ${statSync(target).size} bytes, expected ${size}`);
        const object = this.commit(state, { ...upload.attributes, key: upload.key, size, etag, lastModified: Date.now(), file });
        this.abortUpload(upload);
        return object;
    }

    abortUpload(upload: MultipartUpload): void {
        this.uploads.delete(upload.uploadId);
        rmSync(upload.dir, { recursive: true, force: true });
    }
}
