import { NAME_MAX_CHARACTERS } from '../../src-shared/names.ts';
import { PASSWORD_MAX_LENGTH } from '../../src-shared/password-policy.ts';

/**
 * `maxLength` of the forms' text fields. The browser counts UTF-16 units, the rules count characters: twice
 * the character limit lets every allowed value in (the schema then says what is too long) and stops a pasted
 * megabyte at the field, before it reaches main.
 */
export const FIELD_MAX_LENGTH = {
  email: 254,
  password: PASSWORD_MAX_LENGTH * 2,
  name: NAME_MAX_CHARACTERS * 2,
  apiKey: 512,
  apiSecret: 4096,
  passphrase: 512,
} as const;
