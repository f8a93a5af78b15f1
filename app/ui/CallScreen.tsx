import { createEffect, createSignal, Match, on, Show, Switch } from 'solid-js';
import { Controls } from './Controls';
import { ErrorNotice } from './ErrorNotice';
import { watchArrival } from './arrival';
import { VideoPlaceholder } from './MediaChoices';
import { QualityPanel } from './QualityPanel';
import { RingEnded, Ringing, ringState, SaveContactButton } from './RingPanels';
import { startNewCall } from './start';
import { useCall } from './store';
import { Video } from './Video';
import { WaitingPanel } from './WaitingPanel';

export function CallScreen(props: { onLeave: () => void; onHangUp?: () => void; onCallAgain?: () => void }) {
  const call = useCall();
  watchArrival(call.state);
  const [audioBlocked, setAudioBlocked] = createSignal(false);
  // "We compared it" hides the warning until the code changes again.
  const [verifyAcked, setVerifyAcked] = createSignal(false);
  createEffect(on(() => call.code()?.join(''), () => setVerifyAcked(false), { defer: true }));
  let remoteEl: HTMLVideoElement | undefined;
  const inCall = () => call.state() === 'connected' || call.state() === 'reconnecting' || call.state() === 'connecting';
  const remoteCameraOff = () => inCall() && call.remoteMedia()?.videoOff === true;
  // Audio only on either side: no video crosses the network, both screens say so (issue 14).
  const audioOnly = () => inCall() && (call.remoteMedia()?.audioOnly === true || call.controls()?.audioOnly() === true);
  const remoteWeak = () => inCall() && call.remoteMedia()?.weakLink === true;
  const selfStream = () => call.controls()?.selfStream() ?? call.localStream();
  return (
    <main class="screen call" data-testid="call-screen" data-state={ringState(call.ring(), call.state()) ?? call.state()} data-negotiations={call.negotiations()} data-signaling={call.signaling()} data-verification={call.verification()}>
      <Switch>
        <Match when={ringState(call.ring(), call.state()) === 'declined' || call.ring() === 'no-answer'}>
          <RingEnded onAgain={() => props.onCallAgain?.()} onLeave={props.onLeave} />
        </Match>
        <Match when={call.state() === 'full'}>
          <section class="notice">
            <h1>This call is full</h1>
            <p>Two people are already in this call. If it was yours, start a new one and send the new link.</p>
            <div class="row">
              <button type="button" class="primary" onClick={startNewCall}>Start a new call</button>
              <button type="button" class="secondary" onClick={props.onLeave}>Back to start</button>
            </div>
          </section>
        </Match>
        <Match when={call.state() === 'error'}>
          <ErrorNotice reason={call.error() ?? 'media-failed'} link={call.link} onLeave={props.onLeave} />
        </Match>
        <Match when={true}>
          <Video
            ref={(el) => (remoteEl = el)}
            stream={inCall() ? call.remoteStream() : null}
            class={call.remoteMedia()?.screen ? 'remote screen-share' : 'remote'}
            testid="remote-video"
            label="The other person"
            onPlayBlocked={() => setAudioBlocked(true)}
          />
          <Switch>
            <Match when={audioOnly()}>
              <VideoPlaceholder testid="audio-only" label="Audio only: no video in either direction" text="Audio only" />
            </Match>
            <Match when={remoteWeak()}>
              <VideoPlaceholder testid="remote-video-paused" label="Their video is paused: weak connection" text="Video paused: weak connection" />
            </Match>
            <Match when={remoteCameraOff()}>
              <VideoPlaceholder testid="remote-camera-off" label="The other person turned their camera off" text="Camera off" />
            </Match>
          </Switch>
          <Show when={inCall() && call.videoPaused() && !audioOnly()}>
            <p class="hint paused" role="status" data-testid="video-paused">Video paused: weak connection</p>
          </Show>
          <Show when={call.state() === 'waiting'}>
            <Show when={call.ring() === 'ringing'} fallback={<WaitingPanel />}>
              <Ringing onCancel={props.onLeave} />
            </Show>
          </Show>
          <Show when={inCall() || call.remoteLeft()}>
            <SaveContactButton />
          </Show>
          {/*
            The screen reader's news of the call (issue 15): one polite live region,
            present from the first frame of the call screen, whose content changes.
            A live region inserted together with its text is often not read at all,
            so the visible status lines are rendered inside it rather than each
            being its own region. Failures are role="alert" (ErrorNotice, the
            verification warning).
          */}
          <div aria-live="polite" data-testid="call-announcer">
            <Show when={call.state() === 'connecting'}>
              <p class="status">Connecting…</p>
            </Show>
            <Show when={call.state() === 'reconnecting'}>
              <p class="status">Reconnecting…</p>
            </Show>
            {/* Seen as the picture appearing; heard only through this. */}
            <Show when={call.state() === 'connected' && call.signaling() !== 'reconnecting'}>
              <p class="sr-only">Connected</p>
            </Show>
            <Show when={call.signaling() === 'reconnecting'}>
              <p class="hint">Reconnecting to server…</p>
            </Show>
            <Show when={inCall() && call.remoteMedia()?.audioMuted}>
              {/* On their video, naming whose it is: next to our own mic button it read as if we were muted (issue 16). */}
              <p class="badge remote-badge" data-testid="remote-muted">
                They muted their mic
              </p>
            </Show>
            {/* The placeholder says it as an image label, which nobody hears when it appears. */}
            <Show when={remoteCameraOff() && !audioOnly() && !remoteWeak()}>
              <p class="sr-only">The other person turned their camera off</p>
            </Show>
          </div>
          <Show when={inCall() && (call.verification() === 'failed' || (call.verification() === 'changed' && !verifyAcked()))}>
            <div class="hint warning" role="alert" data-testid="verification-warning">
              <p>
                {call.verification() === 'failed'
                  ? 'Security check failed: someone may be interfering with this call. Hang up and start a new call.'
                  : 'The security code changed. Open the call details and compare it again.'}
              </p>
              <Show when={call.verification() === 'changed'}>
                <button type="button" class="secondary" onClick={() => setVerifyAcked(true)}>
                  We compared it
                </button>
              </Show>
            </div>
          </Show>
          <Show when={audioBlocked()}>
            <button
              type="button"
              class="overlay"
              onClick={() => {
                setAudioBlocked(false);
                if (!remoteEl) return;
                remoteEl.muted = false; // this tap is the gesture that allows sound
                void remoteEl.play().catch(() => setAudioBlocked(true));
              }}
            >
              Tap to unmute
            </button>
          </Show>
          <Show when={inCall()}>
            <QualityPanel media={() => remoteEl} />
          </Show>
          <Show when={(!call.controls()?.cameraOff() || call.controls()?.sharing()) && !call.controls()?.audioOnly()} fallback={<div class="self self-off" aria-label="Your camera is off" role="img">{call.controls()?.audioOnly() ? 'Audio only' : 'Camera off'}</div>}>
            <Video stream={selfStream()} muted class={call.controls()?.mirrored() === false ? 'self' : 'self mirrored'} testid="local-video" label="You" />
          </Show>
          <Show when={call.controls()?.muted()}>
            <p class="self-badge" data-testid="self-muted" aria-hidden="true">
              You’re muted
            </p>
          </Show>
          <Controls onLeave={props.onHangUp ?? props.onLeave} remoteVideo={() => remoteEl} />
        </Match>
      </Switch>
    </main>
  );
}
