import { z } from 'zod';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Where the app finds the API: https anywhere; plain http only on this machine (the local stack), where no
 * network sits between the app and the API to read session tokens or swap answers.
 */
export const ApiUrl = z.url({ protocol: /^https?$/ }).refine((raw) => {
  const url = new URL(raw);
  return url.protocol === 'https:' || LOOPBACK.test(url.hostname);
}, 'plain http:// is accepted only for this machine (localhost, 127.0.0.1, [::1]); use https://');
