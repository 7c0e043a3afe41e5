/** The client wire protocol: jute encoding, record schemas, numeric constants, framing. */
export { JuteReader, JuteWriter, JuteDecodeError } from "./jute.ts";
export * from "./codec.ts";
export * from "./records.ts";
export * from "./opcodes.ts";
export * from "./errors.ts";
export { FrameDecoder, type FrameEvent } from "./frame.ts";
