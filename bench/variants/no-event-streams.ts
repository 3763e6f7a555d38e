// Benchmark-only stand-in for @smithy/core/event-streams (the noEventStreams variant). The SDK's
// HTTP protocol imports that module with import() for event-stream operations, none of which the
// notes handlers call; esbuild therefore puts it, and every module it shares with the rest of the
// SDK, behind lazy-init wrappers. Replacing it shows what those wrappers cost. Not shippable: the
// S3 client uses the real module at init.
const absent = (): never => {
    throw new Error("event streams are not part of this benchmark variant");
};
export const EventStreamCodec = absent;
export const HeaderMarshaller = absent;
export const Int64 = absent;
export const MessageDecoderStream = absent;
export const MessageEncoderStream = absent;
export const SmithyMessageDecoderStream = absent;
export const SmithyMessageEncoderStream = absent;
export const EventStreamMarshaller = absent;
export const eventStreamSerdeProvider = absent;
export const readableStreamToIterable = absent;
export const iterableToReadableStream = absent;
export const UniversalEventStreamMarshaller = absent;
export const universalEventStreamSerdeProvider = absent;
export const getChunkedStream = absent;
export const getUnmarshalledStream = absent;
export const getMessageUnmarshaller = absent;
export const resolveEventStreamSerdeConfig = <T>(config: T): T => config;
export const EventStreamSerde = absent;
