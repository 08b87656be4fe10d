// What a user's app declares once: the shape of its session.
declare module '@session-manager/runtime' {
  interface SessionData {
    counter: number;
    user: { id: string; roles: string[] };
  }
}

export {};
