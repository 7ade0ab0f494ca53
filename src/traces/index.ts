export {
  MAGIC,
  FORMAT_VERSION,
  FLAG_LLC_FILTERED,
  MAX_BLOCK_PAYLOAD,
  MAX_UNIT,
  DEFAULT_LINE_SHIFT,
  DEFAULT_PAGE_SIZE,
  type TraceHeader,
} from './format.js';
export { crc32 } from './crc32.js';
export { TraceReader } from './reader.js';
export { TraceWriter, type TraceWriterOptions } from './writer.js';
export { PageIndex } from './page-index.js';
export { LlcFilter } from './llc.js';
export { TraceStream, createTraceStream, type TraceStreamOptions } from './stream.js';
export { traceWorkloadSchema, createTraceWorkload, type TraceWorkloadSpec } from './workload.js';
export { traceStats, formatTraceStats, type TraceStats } from './stats.js';
export {
  LackeyParser,
  importLackeyFile,
  importLackeyStream,
  type LackeyImportOptions,
  type LackeyImportResult,
  type LlcOptions,
} from './lackey.js';
export {
  recordTrace,
  buildRecorder,
  valgrindVersion,
  type RecordOptions,
  type RecordResult,
  type RecordMethod,
  type BuiltTool,
} from './recorder.js';
