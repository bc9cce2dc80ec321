// Typed usage of @wsgateway/client: `npm run typecheck` compiles it against
// the package's own declarations (dist/index.d.ts, resolved by name), so a
// change to the public types that breaks users breaks this file first.
import {
  Client,
  TimeoutError,
  UnauthorizedError,
  WSGatewayError,
  closePolicy,
  type ClientStateEvent,
  type HistoryResult,
  type JoinLeave,
  type Position,
  type PresenceResult,
  type Publication,
  type Reply,
  type SendResult,
  type SubscriptionStateEvent,
} from "@wsgateway/client";
import WebSocket from "ws";

interface ChatMessage {
  text: string;
}

export async function usage(): Promise<void> {
  const client = new Client("ws://localhost:8080/ws", {
    getToken: async () => (await fetch("/token")).text(),
    WebSocket, // Node 20 has no global WebSocket
    tabs: "independent",
    minDelay: 500,
    maxDelay: 20000,
    timeout: 10000,
    dialWhenHidden: false,
    name: "chat",
  });
  const off: () => void = client.on("state", (e: ClientStateEvent) => {
    if (e.state === "closed") console.log("closed for good", e.code, e.reason, e.error?.code);
  });
  client.on("connected", (info) => console.log(info.client, info.node, info.ping_interval));
  client.on("error", (err: Error) => console.warn(err.message));
  await client.connect();

  const sub = client.subscribe("chat:lobby");
  sub.on("publication", (p: Publication) => {
    const msg = p.data as ChatMessage;
    console.log(p.channel, p.offset, p.epoch, p.user ?? "(api)", msg.text);
  });
  sub.on("state", (e: SubscriptionStateEvent) => {
    if (e.state === "subscribed" && e.wasRecovering && !e.recovered) console.log("resync chat:lobby from the backend");
  });
  await sub.ready();

  const pos: Position = await client.publish("chat:lobby", { text: "hello" }, { idempotencyKey: "msg-1" });
  const who: PresenceResult = await client.presence("chat:lobby");
  const hist: HistoryResult = await client.history("chat:lobby", { since: pos.offset - 10, limit: 10 });
  const total = await client.rpc<{ total: number }>("cart.total", { cart: 7 });
  console.log(who.users.map((u) => u.user), who.count, hist.publications.length, total.total);

  sub.on("join", (j: JoinLeave) => console.log(j.user, "joined", j.channel, "from", j.client));
  sub.on("leave", (j: JoinLeave) => console.log(j.user, "left", j.channel));
  client.on("reply", (r: Reply) => console.log(r.id, r.error ? r.error.code : r.data));
  const queued: SendResult = await client.send("orders", { sku: "A1" }, { idempotencyKey: "order-1" });
  const status = await client.sendAndWait<{ status: string }>("orders", { sku: "B2" }, { timeout: 30_000 });
  console.log(queued.id, queued.duplicate, status.status);

  try {
    await client.presence("secret");
  } catch (err) {
    if (err instanceof TimeoutError) console.log("slow");
    else if (err instanceof UnauthorizedError) console.log("log in again");
    else if (err instanceof WSGatewayError) console.log(err.code, err.message);
  }
  console.log(closePolicy(1012).backoff, client.state);
  sub.unsubscribe();
  off();
  client.disconnect();
}
