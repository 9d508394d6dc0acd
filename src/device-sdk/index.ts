/**
 * mupzaos-comms/device: the typed client of the LAN hub for browsers and Node (the device app and
 * `mupza-comms device connect` both use it). It connects with a device token, resumes after the
 * last seq the device holds, hands each notification over once and in order, acks cumulatively,
 * marks entries done / undoes that, pings the hub, and reconnects with exponential backoff with
 * jitter (so a hub restart is not met by every screen at the same instant).
 *
 * No Node built-ins here (nor in the modules beside it): they are bundled into the device app.
 */
// The client itself lives in the modules beside this file; this is the published surface.
export { DeviceClient } from './client.ts';
export { backoffDelay, lanSocketUrl } from './socket.ts';
export type {
  BackoffOptions,
  ConnectionCause,
  ConnectionEvent,
  DeviceClientOptions,
  DeviceEvents,
  DoneEvent,
  DoneInfo,
  Hello,
  InternetState,
  Notification,
  SocketFactory,
  SocketLike,
} from './types.ts';
