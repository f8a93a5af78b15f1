import { expect, it } from 'vitest';
import { newPeerId, type RoomId } from '../../protocol/index';
import { MemoryRoomRegistry } from '../../broker/rooms';

const room = 'r' as RoomId;

it('admits two peers, refuses a third, and readmits a member on a new connection', async () => {
  const rooms = new MemoryRoomRegistry<object>();
  const [a, b, c] = [newPeerId(), newPeerId(), newPeerId()];
  expect(await rooms.admit(room, a, {})).toBe(true);
  expect(await rooms.admit(room, b, {})).toBe(true);
  expect(await rooms.admit(room, c, {})).toBe(false);
  expect(await rooms.admit(room, a, {})).toBe(true);
  expect((await rooms.members(room)).sort()).toEqual([a, b].sort());
});

it('lets only the connection that holds the place give it up', async () => {
  const rooms = new MemoryRoomRegistry<object>();
  const peer = newPeerId();
  const [oldConn, newConn] = [{}, {}];
  await rooms.admit(room, peer, oldConn);
  await rooms.admit(room, peer, newConn);
  expect(await rooms.leave(room, peer, oldConn)).toBe(false);
  expect(await rooms.members(room)).toEqual([peer]);
  expect(await rooms.leave(room, peer, newConn)).toBe(true);
  expect(await rooms.members(room)).toEqual([]);
  expect(await rooms.roomCount()).toBe(0);
});
