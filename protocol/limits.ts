/**
 * Numbers both sides agree on. The broker enforces the size caps; the app
 * enforces the SDP/candidate caps after decryption (the broker can't see inside).
 */
/**
 * The message format's version (the `v` field). 2 added the verification
 * commitment (verify-commit / verify-reveal). Topics keep their `tandem/v1/`
 * layout, so clients of both versions still see each other and can say so.
 */
export const PROTOCOL_VERSION = 2;

/** Largest MQTT payload a signaling message may have (bytes, encrypted). */
export const MAX_PAYLOAD_BYTES = 32 * 1024;
/** Largest whole MQTT packet the broker accepts (bytes). */
export const MAX_PACKET_BYTES = 64 * 1024;
/** Largest SDP accepted from the other side (characters). */
export const MAX_SDP_CHARS = 16 * 1024;
/** Most `a=candidate` lines accepted in one SDP. */
export const MAX_SDP_CANDIDATES = 50;
/** Largest single ICE candidate string (characters). */
export const MAX_CANDIDATE_CHARS = 1024;
/** Most topic levels / characters the broker accepts. */
export const MAX_TOPIC_LEVELS = 8;
export const MAX_TOPIC_CHARS = 128;
export const MAX_CLIENT_ID_CHARS = 64;

/** Peers per room. */
export const ROOM_CAPACITY = 2;

/**
 * MQTT keepalive the app asks for (seconds). A broker declares a client dead
 * after 1.5 × keepalive [MQTT-3.1.2-24], so a crashed peer's Will fires within
 * ~15 s, as the product promises (mqtt.js defaults to 60 s).
 */
export const KEEPALIVE_SECONDS = 10;
