import { newSecret } from '../../protocol/index';
import { markAutojoin } from '../call/rejoin';
import { navigate } from './router';

/** "Start a call": a fresh link whose page joins at once (this tap was the gesture). */
export function startNewCall(): void {
  const secret = newSecret();
  markAutojoin(secret);
  // Warm the call chunk and mqtt.js while the camera starts.
  void import('./CallPage');
  void import('../signaling/mqtt').then((m) => m.loadMqtt());
  navigate(`/call#${secret}`);
}
