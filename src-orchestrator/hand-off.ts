// The bytes a new instance reads from its descriptor: a `BotHandOff` (src-shared/bot-instance.ts) as JSON. They are
// put together as bytes, the secrets copied in from their own buffers, so the whole hand-off never exists as a
// string the orchestrator could not wipe; the caller fills the result with zeros once the driver has written it.
import { InstanceToken } from '../src-shared/bot-instance.ts';

/** The API and the key broker as the bot must use them: from inside its sandbox, through its egress allowlist. */
export interface HandOffAddresses {
  apiUrl: string;
  brokerUrl: string;
}

/** A JSON string's content needs no escaping when it holds only printable ASCII other than `"` and `\`. */
function isPlainJsonText(bytes: Uint8Array): boolean {
  return bytes.every((b) => b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x5c);
}

export function encodeHandOff(who: { botId: string; instanceId: string } & HandOffAddresses, instanceToken: string, brokerCredential: Uint8Array): Uint8Array {
  // Checked, never echoed: an error here must not carry what it refused.
  if (!InstanceToken.safeParse(instanceToken).success) throw new Error('the API gave the instance a token of an unexpected form');
  if (brokerCredential.length === 0 || brokerCredential.length > 512 || !isPlainJsonText(brokerCredential)) {
    throw new Error('the key broker gave a credential of an unexpected form');
  }
  const head = JSON.stringify({ botId: who.botId, instanceId: who.instanceId, apiUrl: who.apiUrl, brokerUrl: who.brokerUrl });
  const encoder = new TextEncoder();
  const parts = [encoder.encode(`${head.slice(0, -1)},"instanceToken":"`), encoder.encode(instanceToken), encoder.encode('","brokerCredential":"'), brokerCredential, encoder.encode('"}')];
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  parts[1]!.fill(0);
  return bytes;
}
