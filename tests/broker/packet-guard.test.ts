import { describe, expect, it } from 'vitest';
import { MqttPacketGuard } from '../../broker/packet-guard';

const CAP = 1000;

describe('MqttPacketGuard', () => {
  it('accepts packets up to the cap, including several in one message and one across many', () => {
    const guard = new MqttPacketGuard(CAP);
    // PINGREQ, then a PUBLISH of exactly CAP bytes (1 + 2 length bytes + 997 body).
    const body = Buffer.alloc(997);
    const publish = Buffer.concat([Buffer.of(0x30, 997 & 0x7f | 0x80, 997 >> 7), body]);
    expect(publish.length).toBe(CAP);
    expect(guard.push(Buffer.of(0xc0, 0x00))).toBeNull();
    for (let i = 0; i < publish.length; i += 7) expect(guard.push(publish.subarray(i, i + 7))).toBeNull();
    expect(guard.push(Buffer.of(0xc0, 0x00, 0xc0, 0x00))).toBeNull();
  });

  it('refuses a packet one byte over the cap as soon as its length is known', () => {
    const guard = new MqttPacketGuard(CAP);
    expect(guard.push(Buffer.of(0x30, 998 & 0x7f | 0x80))).toBeNull();
    expect(guard.push(Buffer.of(998 >> 7))).toBe('oversize');
  });

  it('refuses on the first length byte that already exceeds the cap', () => {
    expect(new MqttPacketGuard(100).push(Buffer.of(0x30, 0xff))).toBe('oversize');
  });

  it('refuses a fifth Remaining Length byte', () => {
    expect(new MqttPacketGuard(Number.MAX_SAFE_INTEGER).push(Buffer.of(0x30, 0x80, 0x80, 0x80, 0x80, 0x01))).toBe('malformed');
  });

  it('refuses reserved packet types 0 and 15', () => {
    expect(new MqttPacketGuard(CAP).push(Buffer.of(0x00, 0x00))).toBe('malformed');
    expect(new MqttPacketGuard(CAP).push(Buffer.of(0xf0, 0x00))).toBe('malformed');
  });

  it('refuses a packet spread over more WebSocket messages than allowed, and allows exactly that many', () => {
    const connect = Buffer.of(0x10, 0x05, 1, 2, 3, 4, 5);
    const exact = new MqttPacketGuard(CAP, 7);
    for (const byte of connect) expect(exact.push(Buffer.of(byte))).toBeNull();
    const over = new MqttPacketGuard(CAP, 6);
    const verdicts = [...connect].map((byte) => over.push(Buffer.of(byte)));
    expect(verdicts.slice(0, 6)).toEqual(Array(6).fill(null));
    expect(verdicts[6]).toBe('fragmented');
  });

  it('counts the packets a client starts, and its acks apart (issue 11: acks were free)', () => {
    const guard = new MqttPacketGuard(CAP);
    // PINGREQ, PUBACK, PUBREC, PUBREL, PUBCOMP, PUBLISH (empty topic), SUBSCRIBE header.
    guard.push(Buffer.of(0xc0, 0x00, 0x40, 0x02, 0, 1, 0x50, 0x02, 0, 1, 0x62, 0x02, 0, 1, 0x70, 0x02, 0, 1, 0x30, 0x02, 0, 0, 0x82));
    expect(guard.packets).toBe(3);
    expect(guard.acks).toBe(4);
  });

  it('refuses a SUBSCRIBE longer than the cap from its header, and lets other packets that long through', () => {
    const subscribe = new MqttPacketGuard(CAP, Infinity, 100);
    expect(subscribe.push(Buffer.of(0x82, 100))).toBeNull();
    expect(new MqttPacketGuard(CAP, Infinity, 100).push(Buffer.of(0x82, 101))).toBe('subscribe-size');
    expect(new MqttPacketGuard(CAP, Infinity, 100).push(Buffer.of(0x30, 101))).toBeNull();
  });

  it('stays closed once it has refused', () => {
    const guard = new MqttPacketGuard(CAP);
    expect(guard.push(Buffer.of(0xf0))).toBe('malformed');
    expect(guard.push(Buffer.of(0xc0, 0x00))).toBe('malformed');
  });
});
