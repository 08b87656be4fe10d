import {
  bindSessionToUser,
  type Flash,
  flash,
  SessionManager,
  setSessionExpiry,
  takeFlashes,
  touchSession,
  type UserSession,
} from '@session-manager/runtime';
import { manager } from './manager.js';

/** Session lifetimes, sign out everywhere and clear(), as an app types them. */
export async function lifetimes(): Promise<string | undefined> {
  setSessionExpiry(30 * 24 * 3600);
  // @ts-expect-error seconds, not a duration string
  setSessionExpiry('30d');
  touchSession();
  bindSessionToUser('ada');
  flash('Saved');
  flash('Wrong password', 'error');
  // @ts-expect-error a category is a string
  flash('Saved', 1);
  const flashes: Flash[] = takeFlashes();
  await manager.revokeUser('ada');
  const sessions: UserSession[] = await manager.listUserSessions('ada');
  const lastSeen: Date | undefined = sessions[0]?.lastSeen;
  const removed: number = await manager.clear();
  SessionManager.files({ absoluteExpire: 8 * 3600 });
  SessionManager.cookies('a-secret-of-at-least-32-characters-long', {
    absoluteExpire: { seconds: 8 * 3600, keepOnRegenerate: true },
    compression: 6,
  });
  // @ts-expect-error keepOnRegenerate is true or false
  SessionManager.files({ absoluteExpire: { seconds: 60, keepOnRegenerate: 'yes' } });
  return `${flashes[0]?.category}: ${flashes[0]?.message} ${lastSeen?.toISOString()} ${removed}`;
}
