/**
 * systemd drop-ins for the Debian units the host runs. Pure renderers.
 */

/**
 * Restart a crashed daemon after a second, and never give up: systemd's
 * default stops restarting after 5 starts in 10 s, and Debian's
 * dovecot.service has no Restart= at all, so a crash would stop the role
 * mailboxes and submission (Postfix authenticates through Dovecot) for good.
 */
export function renderRestartDropIn(unit: string): string {
  return `# ${unit}: restarted by systemd when it dies, rendered by Postforge.
[Unit]
StartLimitIntervalSec=0

[Service]
Restart=on-failure
RestartSec=1s
`;
}
