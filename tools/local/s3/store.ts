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
    /** Data file name, generated; never derived from the key ("" for a delete marker). */
    file: string;
    /** `null` in a bucket whose versioning was never enabled (or is suspended), else the version's generated id. */
    versionId?: string;
    /** A delete marker: the version a delete leaves in a versioned bucket. */
    deleteMarker?: boolean;
}

/** A bucket's versioning state, as `GetBucketVersioning` reports it (undefined: never enabled). */
export type VersioningStatus = "Enabled" | "Suspended";

/** What a delete did: the version it removed or the delete marker it added. */
export interface DeleteOutcome {
    versionId?: string;
    deleteMarker: boolean;
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

let versionCounter = 0;

/**
 * A version id of 32 URL-safe characters, as S3's are. Like S3's, later versions sort after earlier
 * ones (milliseconds, a counter, then random bits, in hex), so a listing resumes after a version-id
 * marker even when that version has been deleted meanwhile.
 */
function newVersionId(): string {
    versionCounter = (versionCounter + 1) % 0x10000;
    return `${Date.now().toString(16).padStart(12, "0")}${versionCounter.toString(16).padStart(4, "0")}${randomBytes(8).toString("hex")}`;
}

/** Whether version `a` was made before version `b` (ids this store made; `null` versions have no order). */
export function versionBefore(a: string, b: string): boolean {
    return a !== "null" && b !== "null" && a < b;
}

/** The shape of a version id this store could have made (or `null`). */
export const VERSION_ID_PATTERN = /^(null|[A-Za-z0-9_-]{32})$/;

/** Writes a file under a temporary name, then renames it into place: readers see all or nothing. */
function writeAtomic(file: string, data: string | Buffer): void {
    const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(temporary, data);
    renameSync(temporary, file);
}

interface BucketState {
    dir: string;
    versioning?: VersioningStatus;
    /** Every version of every key, oldest first; the last one is the current version (maybe a delete marker). */
    versions: Map<string, StoredObject[]>;
    /** The current version of each key whose current version is an object (not a delete marker). */
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
 *
 * Versioning as S3 has it: in a bucket whose versioning is enabled every write adds a version with
 * a generated id and a delete adds a delete marker; with versioning suspended, writes and deletes
 * replace the `null` version; a bucket never versioned keeps one (`null`) version per key. A key's
 * versions share one metadata file.
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
        const manifest = path.join(dir, "bucket.json");
        const versioning = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { versioning?: VersioningStatus }).versioning : undefined;
        writeAtomic(manifest, `${JSON.stringify({ name: bucket, versioning })}\n`);
        const state: BucketState = { dir, versioning, versions: new Map(), objects: new Map() };
        this.buckets.set(bucket, state);
        this.load(bucket, state);
    }

    hasBucket(bucket: string): boolean {
        return this.buckets.has(bucket);
    }

    /** Turns versioning on or suspends it (`PutBucketVersioning`); a versioned bucket never returns to unversioned. */
    setVersioning(bucket: string, status: VersioningStatus): void {
        const state = this.bucket(bucket);
        state.versioning = status;
        writeAtomic(path.join(state.dir, "bucket.json"), `${JSON.stringify({ name: bucket, versioning: status })}\n`);
    }

    versioning(bucket: string): VersioningStatus | undefined {
        return this.bucket(bucket).versioning;
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
            // A key's versions, or (written before versioning) its one object.
            const saved = JSON.parse(readFileSync(file, "utf8")) as { key: string; versions: StoredObject[] } | StoredObject;
            const versions = "versions" in saved ? saved.versions : [{ ...saved, versionId: "null" }];
            if (versions.length === 0) continue;
            state.versions.set(versions[0].key, versions);
            this.refresh(state, versions[0].key);
            for (const version of versions) if (!version.deleteMarker) referenced.add(version.file);
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

    /** The key's current version when it is an object (not a delete marker). */
    head(bucket: string, key: string): StoredObject | undefined {
        return this.bucket(bucket).objects.get(key);
    }

    /** The key's current version, a delete marker included. */
    latest(bucket: string, key: string): StoredObject | undefined {
        return this.bucket(bucket).versions.get(key)?.at(-1);
    }

    /** One version of the key (`null` is the version of an unversioned write). */
    version(bucket: string, key: string, versionId: string): StoredObject | undefined {
        return this.bucket(bucket).versions.get(key)?.find((v) => (v.versionId ?? "null") === versionId);
    }

    /** Every key that has a version (delete markers included), in S3's order. */
    versionedKeys(bucket: string): string[] {
        return [...this.bucket(bucket).versions.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
    }

    /** The key's versions, newest first, as ListObjectVersions lists them. */
    versionsOf(bucket: string, key: string): StoredObject[] {
        return [...(this.bucket(bucket).versions.get(key) ?? [])].reverse();
    }

    /** Recomputes the key's current object after its versions changed. */
    private refresh(state: BucketState, key: string): void {
        const current = state.versions.get(key)?.at(-1);
        const had = state.objects.has(key);
        if (current && !current.deleteMarker) state.objects.set(key, current);
        else state.objects.delete(key);
        if (had !== state.objects.has(key)) state.sorted = undefined;
    }

    /** Writes the key's versions (or removes its file when none is left). */
    private save(state: BucketState, key: string): void {
        const versions = state.versions.get(key) ?? [];
        const file = path.join(state.dir, "objects", `${sha256(key)}.json`);
        if (versions.length === 0) {
            state.versions.delete(key);
            rmSync(file, { force: true });
        } else {
            writeAtomic(file, JSON.stringify({ key, versions }));
        }
        this.refresh(state, key);
    }

    private dropData(state: BucketState, version: StoredObject | undefined): void {
        if (version && !version.deleteMarker && version.file) rmSync(path.join(state.dir, "data", version.file), { force: true });
    }

    /** Adds `version` as the key's current one: a new version when versioning is enabled, else in place of the `null` version. */
    private append(state: BucketState, version: StoredObject): StoredObject {
        const versions = state.versions.get(version.key) ?? [];
        let kept = versions;
        if (state.versioning === "Enabled") {
            version.versionId = newVersionId();
        } else {
            version.versionId = "null";
            const replaced = versions.filter((v) => (v.versionId ?? "null") === "null");
            kept = versions.filter((v) => (v.versionId ?? "null") !== "null");
            state.versions.set(version.key, [...kept, version]);
            this.save(state, version.key);
            for (const old of replaced) if (old.file !== version.file) this.dropData(state, old);
            return version;
        }
        state.versions.set(version.key, [...kept, version]);
        this.save(state, version.key);
        return version;
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

    /** Makes `object` the key's current version (metadata renamed into place); without versioning, drops the old bytes. */
    private commit(state: BucketState, object: StoredObject): StoredObject {
        return this.append(state, object);
    }

    /**
     * DeleteObject without a version id: in a versioned bucket (enabled or suspended) a delete
     * marker becomes the current version; otherwise the key's object is gone.
     */
    delete(bucket: string, key: string): DeleteOutcome {
        const state = this.bucket(bucket);
        if (state.versioning) {
            const marker = this.append(state, { key, size: 0, etag: "", lastModified: Date.now(), metadata: {}, file: "", deleteMarker: true });
            return { versionId: marker.versionId, deleteMarker: true };
        }
        const versions = state.versions.get(key) ?? [];
        state.versions.set(key, []);
        this.save(state, key);
        for (const version of versions) this.dropData(state, version);
        return { deleteMarker: false };
    }

    /** DeleteObject with a version id: that version is gone for good (undefined when it did not exist). */
    deleteVersion(bucket: string, key: string, versionId: string): DeleteOutcome | undefined {
        const state = this.bucket(bucket);
        const versions = state.versions.get(key) ?? [];
        const version = versions.find((v) => (v.versionId ?? "null") === versionId);
        if (!version) return undefined;
        state.versions.set(key, versions.filter((v) => v !== version));
        this.save(state, key);
        this.dropData(state, version);
        return { versionId, deleteMarker: Boolean(version.deleteMarker) };
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
