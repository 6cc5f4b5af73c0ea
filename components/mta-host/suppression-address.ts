/**
 * The addresses the suppression list holds: plain ones, nothing a Postfix table reads as syntax (a
 * leading "#" is a comment there) or a shell as code. One pattern, rendered into the host's
 * postforge-suppress and used by postforge-mailops to leave out what the list cannot hold.
 */
export const PLAIN_ADDRESS = /^[a-z0-9_%+='-][a-z0-9._%+='-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
