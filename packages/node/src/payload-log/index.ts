export { type PayloadEvent, REQUEST_EVENT, RESPONSE_EVENT } from './cloudevents';
export {
  PayloadLogger,
  type PayloadLogMode,
  type PayloadLogOptions,
  type PayloadLogSettings,
  type PayloadLogSource,
} from './payload-log';
export {
  FilePayloadSink,
  HttpPayloadSink,
  type HttpSinkOptions,
  type PayloadSink,
  type PayloadSinkStats,
} from './sinks';
