/**
 * @wsgateway/client: the browser and Node client of wsgateway. One Client per
 * connection, one Subscription handle per channel use; reconnect, recovery by
 * offset, token refresh and the page lifecycle are handled inside.
 */
export { Client } from "./client.js";
export type {
  ClientEvents,
  ClientOptions,
  ClientState,
  ClientStateEvent,
  ConnectInfo,
  HistoryResult,
  Position,
  PresenceResult,
  PublishOptions,
  Reply,
  SendAndWaitOptions,
  SendResult,
} from "./client.js";
export { Subscription } from "./subscription.js";
export type { JoinLeave, Publication, SubscriptionEvents, SubscriptionState, SubscriptionStateEvent } from "./subscription.js";
export { DisconnectedError, TimeoutError, UnauthorizedError, WSGatewayError } from "./errors.js";
export { closePolicy } from "./policy.js";
export type { ClosePolicy } from "./policy.js";
export type { Listener } from "./emitter.js";
export type { StorageLike } from "./positions.js";
export type { Dial, Transport, TransportHandlers, WebSocketLike } from "./transport.js";
export type { Tabs, TabsContext, TabsMode } from "./tabs-seam.js";
