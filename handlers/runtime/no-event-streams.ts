/**
 * Takes the place of `@smithy/core/event-streams` (the SDK's event-stream codec) in handler bundles
 * that never use it; `lib/bundle.ts` aliases the module to this file for them.
 *
 * The SDK's HTTP protocol loads the codec with `import()`, and only for operations that stream
 * events; DynamoDB has none. Because of that `import()`, esbuild puts the codec and every SDK
 * module it shares with the rest of the client (about 150) behind lazy-init wrappers, which V8
 * parses once when loading the bundle and again when each module first runs. Without the codec,
 * those modules run as plain top-level code. Each export throws if it is ever called.
 * `test/lib/bundle.test.ts` checks that these are exactly the real module's exports.
 */
const absent = (): never => {
    throw new Error("The SDK's event-stream codec is not in this handler bundle: lib/bundle.ts leaves it out of bundles that do not use it.");
};

export const EventStreamCodec = absent;
export const EventStreamMarshaller = absent;
export const EventStreamSerde = absent;
export const HeaderMarshaller = absent;
export const Int64 = absent;
export const MessageDecoderStream = absent;
export const MessageEncoderStream = absent;
export const SmithyMessageDecoderStream = absent;
export const SmithyMessageEncoderStream = absent;
export const UniversalEventStreamMarshaller = absent;
export const eventStreamSerdeProvider = absent;
export const getChunkedStream = absent;
export const getMessageUnmarshaller = absent;
export const getUnmarshalledStream = absent;
export const iterableToReadableStream = absent;
export const readableStreamToIterable = absent;
export const resolveEventStreamSerdeConfig = absent;
export const universalEventStreamSerdeProvider = absent;
