import './session-data.js';
import { SessionManager } from '@session-manager/runtime';

export const manager = Object.assign(SessionManager.cookies('a-secret-of-at-least-32-characters-long'), {
  forCart: SessionManager.cookies<{ items: string[] }>('a-secret-of-at-least-32-characters-long'),
});
