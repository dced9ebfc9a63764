/** What time it is for a server process; injected, so tests can move it (session and credential expiry). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

export const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);
export const iso = (date: Date): string => date.toISOString();
