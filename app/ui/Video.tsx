import { createEffect, type JSX } from 'solid-js';

/** A <video> bound to a MediaStream; `playsinline` so iOS doesn't go full screen. */
export function Video(props: { ref?: (el: HTMLVideoElement) => void; stream: MediaStream | null; muted?: boolean; class?: string; testid: string; label: string; style?: JSX.CSSProperties; onPlayBlocked?: () => void }) {
  let el!: HTMLVideoElement;
  createEffect(() => {
    const s = props.stream;
    if (el.srcObject !== s) el.srcObject = s;
    if (!s) return;
    el.play().catch((e: { name?: string }) => {
      if (e?.name !== 'NotAllowedError' || props.muted) return;
      // Sound needs a tap first (autoplay policy): show the picture muted meanwhile, never a black box.
      el.muted = true;
      void el.play().catch(() => undefined);
      props.onPlayBlocked?.();
    });
  });
  return (
    <video
      ref={(v) => {
        el = v;
        props.ref?.(v);
      }}
      class={props.class}
      data-testid={props.testid}
      aria-label={props.label}
      autoplay
      playsinline
      muted={props.muted ?? false}
      style={props.style}
    />
  );
}
