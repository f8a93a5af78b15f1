/**
 * Incoming signaling messages, dispatched by type to one handler each
 * (aedes lib/handlers/index.js, MQTT.js handlers/index.ts). The table's type
 * demands a handler for every member of the protocol's union, so a message
 * type added to protocol/ but not handled here fails to compile instead of
 * being dropped at run time.
 */
import type { MessageOf, SignalMessage, SignalType } from '../../protocol/index';

export type MessageHandlers<A extends unknown[]> = { [K in SignalType]: (message: MessageOf<K>, ...args: A) => void };

export function routeMessage<A extends unknown[]>(handlers: MessageHandlers<A>, message: SignalMessage, ...args: A): void {
  // The table is indexed by the message's own type, so the handler's parameter matches it.
  (handlers[message.type] as (m: SignalMessage, ...a: A) => void)(message, ...args);
}
