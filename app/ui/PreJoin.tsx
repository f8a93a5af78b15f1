import { Show } from 'solid-js';
import { MediaChoices } from './MediaChoices';
import { RelayToggle } from './RelayToggle';
import { useCall } from './store';
import { Video } from './Video';

export function PreJoin() {
  const call = useCall();
  return (
    <main class="screen prejoin" data-screen="prejoin">
      <Show when={!call.controls()?.cameraOff() && !call.controls()?.audioOnly()} fallback={<div class="preview preview-off" role="img" aria-label="Your camera is off">{call.controls()?.audioOnly() ? 'Audio only' : 'Camera off'}</div>}>
        <Video stream={call.localStream()} muted class="preview mirrored" testid="local-video" label="Your camera" />
      </Show>
      <div class="prejoin-panel">
        <h1>Ready to join?</h1>
        <Show when={call.othersInRoom() !== null} fallback={<p>The other person will see and hear you as soon as you join.</p>}>
          {/* From the server's room registry, asked before the camera opened and every 10 s since (issue 16). */}
          <p class="room-presence" role="status" data-testid="room-presence" data-others={call.othersInRoom()}>
            {call.othersInRoom()! > 0 ? 'The other person is waiting. They’ll see and hear you as soon as you join.' : 'The other person isn’t here yet. Join, and you’ll wait for them.'}
          </p>
        </Show>
        <Show when={call.offline()}>
          <p class="offline" role="status" id="offline-reason">
            You’re offline. Calls need an internet connection; this page will be ready as soon as you’re back online.
          </p>
        </Show>
        <MediaChoices />
        <button type="button" class="primary big" disabled={call.offline() || call.joining()} aria-describedby={call.offline() ? 'offline-reason' : undefined} onClick={() => call.join()}>
          {call.joining() ? 'Joining…' : 'Join call'}
        </button>
        <RelayToggle />
      </div>
    </main>
  );
}
