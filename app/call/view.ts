/**
 * What the controller shows the UI: one snapshot, replaced as a whole by its
 * one setter (controller.ts `update`), so a view is never half-changed.
 */
import type { MediaState } from '../../protocol/index';
import type { MediaControlsState } from '../media/controls';
import type { CallErrorReason } from './errors';
import type { CallState } from './machine';
import type { RingStatus, SignalingStatus } from './ports';
import type { Quality } from './stats';
import type { VerificationStatus } from './verifier';

export type Phase = 'loading' | 'prejoin' | 'call';

export interface CallView {
  phase: Phase;
  /** The call screen's state; before the session reports, we are connecting to the server. */
  state: CallState;
  error: CallErrorReason | null;
  /** The other person hung up or vanished and we wait again. */
  remoteLeft: boolean;
  /** How many others hold a place in the room, as the server last said (pre-join); null = unknown. */
  othersInRoom: number | null;
  /** No network: the pre-join screen says so and Join waits for it. */
  offline: boolean;
  signaling: SignalingStatus;
  /** Join was tapped and the answer is being made: the call screen follows in a moment. */
  joining: boolean;
  /** Offers and answers sent so far (tests read it: a track switch must not add any). */
  negotiations: number;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  remoteMedia: MediaState | null;
  media: MediaControlsState | null;
  quality: Quality | null;
  /** Our video is paused because the link is too weak (sending.ts); it resumes by itself. */
  videoPaused: boolean;
  /** The verification code both screens show, once worked out (verifier.ts). */
  code: string[] | null;
  /** `changed`: the other side's certificate changed after a code was shown: compare again. */
  verification: VerificationStatus;
  /** "Relay only" is on, but the server has no relay: this call connects directly (the screen says so). */
  relayUnavailable: boolean;
  /** Our inbox for the other person (contacts): set once connected, so the screen can offer "Save contact". */
  contactId: string | null;
  /** A call to a saved contact: whether it still rings, and whom. Null for a link call. */
  ring: RingStatus | null;
  ringName: string | null;
}

export const initialView = (): CallView => ({
  phase: 'loading',
  state: 'connecting',
  error: null,
  remoteLeft: false,
  othersInRoom: null,
  offline: false,
  signaling: 'connecting',
  joining: false,
  negotiations: 0,
  localStream: null,
  remoteStream: null,
  remoteMedia: null,
  media: null,
  quality: null,
  videoPaused: false,
  code: null,
  verification: 'pending',
  relayUnavailable: false,
  contactId: null,
  ring: null,
  ringName: null,
});
