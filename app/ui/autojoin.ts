/** "Start a call" marks its new link so that page joins without the pre-join tap (the tap on Start was the gesture). */
const AUTOJOIN_KEY = 'tandem.autojoin';

export function markAutojoin(secret: string): void {
  sessionStorage.setItem(AUTOJOIN_KEY, secret);
}

export function takeAutojoin(secret: string): boolean {
  const yes = sessionStorage.getItem(AUTOJOIN_KEY) === secret;
  if (yes) sessionStorage.removeItem(AUTOJOIN_KEY);
  return yes;
}
