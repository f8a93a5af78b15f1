/** What the server tells the page at call time (GET /config.json, never cached). */
export interface ClientConfig {
  brokerUrl: string;
  iceServers: RTCIceServer[];
}

export async function fetchClientConfig(origin: string): Promise<ClientConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config ${res.status}`);
  const body = (await res.json()) as { brokerUrl?: string | null; iceServers?: RTCIceServer[] };
  const sameOrigin = `${origin.replace(/^http/, 'ws')}/mqtt`;
  return { brokerUrl: body.brokerUrl || sameOrigin, iceServers: Array.isArray(body.iceServers) ? body.iceServers : [] };
}
