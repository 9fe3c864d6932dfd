/** Text as UTF-8 bytes and back: how tests build inputs and read outputs. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
