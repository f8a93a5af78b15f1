/**
 * A ringtone made on the spot: two short tones and a pause (like a phone's
 * ring), as a 16-bit PCM WAV, so no audio file is shipped or cached.
 */
const RATE = 8_000;

function wav(samples: Int16Array<ArrayBuffer>): Blob {
  const header = new DataView(new ArrayBuffer(44));
  const text = (o: number, s: string) => [...s].forEach((c, i) => header.setUint8(o + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  header.setUint32(4, 36 + samples.byteLength, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  header.setUint32(16, 16, true); // PCM chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, RATE, true);
  header.setUint32(28, RATE * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, 'data');
  header.setUint32(40, samples.byteLength, true);
  return new Blob([header, samples], { type: 'audio/wav' });
}

/** A short rising two-note chime (0.35 s): "someone joined". */
export function joinSoundUrl(): string {
  const samples = new Int16Array(Math.round(RATE * 0.35));
  for (let i = 0; i < samples.length; i++) {
    const t = i / RATE;
    const f = t < 0.15 ? 660 : 880;
    const fade = Math.min(1, (samples.length - i) / (RATE * 0.05));
    samples[i] = Math.round(9_000 * fade * Math.sin(2 * Math.PI * f * t));
  }
  return URL.createObjectURL(wav(samples));
}

/** 0.4 s of 440+480 Hz, 0.2 s quiet, again, then 1.6 s quiet: 2.6 s, looped by the player. */
export function ringtoneUrl(): string {
  const samples = new Int16Array(Math.round(RATE * 2.6));
  const tone = (from: number, seconds: number) => {
    const start = Math.round(from * RATE);
    for (let i = 0; i < seconds * RATE; i++) {
      const t = i / RATE;
      samples[start + i] = Math.round(6_000 * (Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 480 * t)));
    }
  };
  tone(0, 0.4);
  tone(0.6, 0.4);
  return URL.createObjectURL(wav(samples));
}
