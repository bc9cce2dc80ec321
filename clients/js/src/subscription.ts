import { Emitter } from "./emitter.js";
import { WSGatewayError } from "./errors.js";

/** Publication is one message on a channel; user is absent for a publication from the API. */
export interface Publication {
  channel: string;
  offset: number;
  epoch: string;
  data: unknown;
  user?: string;
}

/** SubscriptionState: unsubscribed → subscribing → subscribed. */
export type SubscriptionState = "unsubscribed" | "subscribing" | "subscribed";

/**
 * SubscriptionStateEvent: on `subscribed`, recovered tells whether the
 * server gave back every missed publication and wasRecovering whether the
 * client asked it to. `{recovered:false, wasRecovering:true}` means
 * publications were lost: reload the channel's state from your own source.
 * On `unsubscribed`, reason or error say why, when the server ended it.
 */
export interface SubscriptionStateEvent {
  state: SubscriptionState;
  recovered?: boolean;
  wasRecovering?: boolean;
  reason?: string;
  error?: WSGatewayError;
  /** On `subscribed`: the data of the namespace's subscribe hook, when it gave any. */
  data?: unknown;
}

/**
 * JoinLeave: a connection (client, of user) subscribed to or left the channel. Sent only in namespaces the
 * server enables (--join-leave-namespaces); ephemeral: none is recovered after a reconnect, so read
 * presence() for the channel's state.
 */
export interface JoinLeave {
  channel: string;
  user: string;
  client: string;
}

/** SubscriptionEvents are the events of a Subscription. */
export interface SubscriptionEvents {
  publication: Publication;
  state: SubscriptionStateEvent;
  join: JoinLeave;
  leave: JoinLeave;
}

/**
 * Subscription is one handle on a channel, returned by Client.subscribe.
 * Handles of one channel share one server subscription, counted: the server
 * is unsubscribed once the last handle is, after the current tick.
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  /** The channel name. */
  readonly channel: string;
  /** The current state. */
  state: SubscriptionState = "subscribing";
  /** @internal */
  _release: (s: Subscription) => void;

  /** @internal */
  constructor(channel: string, release: (s: Subscription) => void) {
    super();
    this.channel = channel;
    this._release = release;
  }

  /** @internal */
  _set(e: SubscriptionStateEvent): void {
    this.state = e.state;
    this._emit("state", e);
  }

  /** ready resolves once subscribed, and rejects if the subscription ends first. */
  ready(): Promise<void> {
    return new Promise((ok, fail) => {
      if (this.state == "subscribed") return ok();
      if (this.state == "unsubscribed") return fail(new WSGatewayError("unsubscribed", `subscribe ${this.channel}: unsubscribed`));
      const off = this.on("state", (e) => {
        if (e.state == "subscribing") return;
        off();
        e.state == "subscribed"
          ? ok()
          : fail(e.error || new WSGatewayError("unsubscribed", `subscribe ${this.channel}: ${e.reason || "unsubscribed"}`));
      });
    });
  }

  /** unsubscribe ends this handle; the server subscription ends with the channel's last handle. */
  unsubscribe(): void {
    if (this.state == "unsubscribed") return;
    this._set({ state: "unsubscribed" });
    this._release(this);
  }
}
