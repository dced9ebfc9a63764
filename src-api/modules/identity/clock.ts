/** The identity module's notion of now, injectable so tests can move time (idle and absolute expiry). */
export type Now = () => Date;
export const systemNow: Now = () => new Date();

export const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);
export const iso = (date: Date): string => date.toISOString();
