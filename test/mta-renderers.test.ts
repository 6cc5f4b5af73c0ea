import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { dkimSecretName } from "../components/dkim/keyring";
import {
  mailHostFiles,
  parseMailHostConfig,
  PATHS,
  renderBootScript,
  renderCloudInit,
  renderConfigManifest,
  renderDovecot,
  renderKeyTable,
  renderOpenDkim,
  renderPostfix,
  renderPostfixMainCf,
  renderPostfixMasterCf,
  renderSigningTable,
  renderSenderLogins,
  renderVirtualMailboxes,
  OPENDKIM_MILTERS,
  roleMailboxes,
  syncFiles,
  type MailHostConfigInput,
} from "../components/mta-host";
import {
  installFiles,
  makeTestRoot,
  postfixCheck,
  preparePostfixDirs,
  relocate,
  unrelocate,
  run,
  writeDkimKeys,
  writeSelfSignedCert,
  type TestRoot,
} from "./support/mta-tools";
import { LAB } from "./support/lab";

const selector = (domain: string, name: string, algorithm: "rsa" | "ed25519") => ({ selector: name, algorithm, secretName: dkimSecretName(domain, name) });

/** A realistic host: two domains, the first dual-signing RSA + Ed25519. */
const input: MailHostConfigInput = {
  hostname: "mail.example.com",
  domains: [
    { domain: "example.com", selectors: [selector("example.com", "pf2026q4e", "ed25519"), selector("example.com", "pf2026q4", "rsa")] },
    {
      domain: "example.org",
      selectors: [selector("example.org", "pf2026q4", "rsa"), selector("example.org", "pf2026q4e", "ed25519")],
      roles: { dmarcAggregate: "dmarc", dmarcFailure: "dmarc", feedbackLoop: "feedback" },
    },
  ],
  submissionClients: ["10.20.0.0/16", "2001:db8:20::/48"],
  adminClients: ["192.0.2.0/24"],
  messageSizeLimit: 20_971_520,
  rateLimits: { messagesPerMinute: 120 },
  awsRegion: "eu-west-1",
  mailboxPasswordsSecretName: "postforge/mailhost/mail.example.com/passwd",
  senderPasswordsSecretName: "postforge/mailhost/mail.example.com/senders",
  senders: [
    { login: "webapp", allowed: ["noreply@example.com", "example.org"] },
    { login: "billing", allowed: ["billing@example.com", "news.example.org"] },
  ],
  tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "route53" } },
};
const config = parseMailHostConfig(input);

describe("the host's own tools", () => {
  it("every Python tool the host runs compiles under Debian's python3 (a syntax slip would only show on the host)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postforge-tools-"));
    try {
      // The manifest's and user-data's (the sync machinery's write-files script).
      const tools = [...mailHostFiles(config), ...syncFiles(config)].filter((f) => f.content.startsWith("#!/usr/bin/python3"));
      assert.deepEqual(tools.map((f) => f.path).sort(), [PATHS.suppressTool, PATHS.unsubscribeServer, PATHS.warmupTool, PATHS.writeFilesScript].sort());
      for (const tool of tools) {
        const file = join(dir, tool.path.split("/").pop()!);
        await writeFile(file, tool.content);
        const compiled = await run("python3", ["-m", "py_compile", file]);
        assert.ok(compiled.ok, `${tool.path}: ${compiled.output}`);
      }
      const bundle = mailHostFiles(config).find((f) => f.path === PATHS.mailopsTool)!;
      assert.match(bundle.content, /^#!\/usr\/bin\/node\n/);
      const file = join(dir, "postforge-mailops.js");
      await writeFile(file, bundle.content);
      assert.ok((await run("node", ["--check", file])).ok);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("MailHostConfig", () => {
  it("fills defaults and lists every role mailbox once per domain", () => {
    assert.equal(config.rateLimits.messagesPerMinute, 120);
    assert.equal(config.rateLimits.connectionsPerMinute, 60);
    assert.equal(config.tls.staging, false);
    assert.deepEqual(
      roleMailboxes(config).map((m) => `${m.address}=${m.roles.join("+")}`),
      [
        "abuse@example.com=abuse",
        "dmarc-rua@example.com=dmarcAggregate",
        "dmarc-ruf@example.com=dmarcFailure",
        "fbl@example.com=feedbackLoop",
        "postmaster@example.com=postmaster",
        "tls-rpt@example.com=tlsReports",
        "abuse@example.org=abuse",
        "dmarc@example.org=dmarcAggregate+dmarcFailure",
        "feedback@example.org=feedbackLoop",
        "postmaster@example.org=postmaster",
        "tls-rpt@example.org=tlsReports",
      ],
    );
  });

  it("refuses mistakes with the field, the value and the fix", () => {
    const bad = {
      ...input,
      hostname: "example.com",
      domains: [
        input.domains[0],
        { domain: "example.com", selectors: [selector("example.com", "a", "rsa"), selector("example.com", "b", "rsa")] },
        { domain: "example.net", selectors: [] },
      ],
      submissionClients: ["10.20.0.1/16"],
    };
    assert.throws(
      () => parseMailHostConfig(bad),
      (e: Error) => {
        assert.match(e.message, /domains\[1\]\.domain = "example\.com": is listed twice/);
        assert.match(e.message, /domains\[1\]\.selectors = \["a","b"\]: has more than one active rsa selector/);
        assert.match(e.message, /domains\[2\]\.selectors = \[\]: must list at least one active selector/);
        assert.match(e.message, /submissionClients\[0\] = "10\.20\.0\.1\/16": has host bits set; write the network, 10\.20\.0\.0\/16/);
        assert.match(e.message, /hostname = "example\.com": is also a sending domain/);
        return true;
      },
    );
  });

  it("has no field for secret material: a private key in the input is refused, not carried", () => {
    const withKey = { ...input, domains: [{ ...input.domains[0], selectors: [{ ...selector("example.com", "pf2026q4", "rsa"), privateKeyPem: "-----BEGIN PRIVATE KEY-----" }] }] };
    assert.throws(() => parseMailHostConfig(withKey), /domains\[0\]\.selectors\[0\]\.privateKeyPem: unknown setting/);
  });
});

describe("exact text", () => {
  it("KeyTable and SigningTable: two domains dual-signing, one OpenDKIM per algorithm", () => {
    assert.equal(
      renderKeyTable(config, "rsa"),
      "pf2026q4._domainkey.example.com example.com:pf2026q4:/etc/opendkim/keys/example.com/pf2026q4.private\n" +
        "pf2026q4._domainkey.example.org example.org:pf2026q4:/etc/opendkim/keys/example.org/pf2026q4.private\n",
    );
    assert.equal(
      renderKeyTable(config, "ed25519"),
      "pf2026q4e._domainkey.example.com example.com:pf2026q4e:/etc/opendkim/keys/example.com/pf2026q4e.private\n" +
        "pf2026q4e._domainkey.example.org example.org:pf2026q4e:/etc/opendkim/keys/example.org/pf2026q4e.private\n",
    );
    // Subdomains sign with their parent's key (relaxed alignment), unless the parent's DMARC is adkim=s.
    assert.equal(
      renderSigningTable(config, "rsa"),
      "*@example.com pf2026q4._domainkey.example.com\n*@*.example.com pf2026q4._domainkey.example.com\n" +
        "*@example.org pf2026q4._domainkey.example.org\n*@*.example.org pf2026q4._domainkey.example.org\n",
    );
    const strict = parseMailHostConfig({ ...input, senders: [], domains: input.domains.map((d, i) => ({ ...d, strictDkimAlignment: i === 0 })) });
    assert.equal(
      renderSigningTable(strict, "ed25519"),
      "*@example.com pf2026q4e._domainkey.example.com\n*@example.org pf2026q4e._domainkey.example.org\n*@*.example.org pf2026q4e._domainkey.example.org\n",
    );
    const files = renderOpenDkim(config).files;
    const conf = (path: string) => files.find((f) => f.path === path)!.content;
    assert.match(conf(PATHS.opendkimConf), /^SignatureAlgorithm +rsa-sha256$/m);
    assert.match(conf(PATHS.opendkimConf), /^Mode +sv$/m);
    assert.match(conf(PATHS.opendkimEd25519Conf), /^SignatureAlgorithm +ed25519-sha256$/m);
    // Unix sockets in a directory only Postfix's group enters; the signer runs with that group.
    assert.match(conf(PATHS.opendkimEd25519Conf), /^Socket +local:\/var\/spool\/postfix\/opendkim\/ed25519\.sock$/m);
    assert.match(conf(PATHS.opendkimConf), /^UserID +opendkim:postfix$/m);
    assert.match(conf(PATHS.opendkimConf), /^UMask +007$/m);
    assert.match(renderPostfixMainCf(config), /^smtpd_milters = unix:\/var\/spool\/postfix\/opendkim\/rsa\.sock, unix:\/var\/spool\/postfix\/opendkim\/ed25519\.sock$/m);
    // Both signers sign the same header list and oversign the same fields.
    for (const path of [PATHS.opendkimConf, PATHS.opendkimEd25519Conf]) {
      assert.match(conf(path), /^SignHeaders +From,To,Cc,Subject,Date,Message-ID,Reply-To,Sender,In-Reply-To,References,MIME-Version,Content-Type,Content-Transfer-Encoding,List-Id,List-Unsubscribe,List-Unsubscribe-Post,Feedback-ID$/m);
      assert.match(conf(path), /^OversignHeaders +From,To,Subject,Date,List-Unsubscribe,List-Unsubscribe-Post$/m);
    }
    const rsaOnly = parseMailHostConfig({ ...input, senders: [], domains: [{ domain: "example.net", selectors: [selector("example.net", "pf2026q4", "rsa")] }] });
    assert.deepEqual(renderOpenDkim(rsaOnly).signers, ["rsa"]);
    assert.ok(!renderOpenDkim(rsaOnly).files.some((f) => f.path === PATHS.opendkimEd25519Conf));
    assert.match(renderPostfixMainCf(rsaOnly), /^smtpd_milters = unix:\/var\/spool\/postfix\/opendkim\/rsa\.sock$/m);
  });

  it("virtual mailbox map: the role addresses and nothing else", () => {
    assert.equal(
      renderVirtualMailboxes(config),
      "abuse@example.com OK\ndmarc-rua@example.com OK\ndmarc-ruf@example.com OK\nfbl@example.com OK\npostmaster@example.com OK\ntls-rpt@example.com OK\n" +
        "abuse@example.org OK\ndmarc@example.org OK\nfeedback@example.org OK\npostmaster@example.org OK\ntls-rpt@example.org OK\n",
    );
    assert.deepEqual(
      renderDovecot(config).mailboxes.map((m) => m.address),
      roleMailboxes(config).map((m) => m.address),
    );
  });

  it("main.cf and master.cf: the lines the design depends on", () => {
    const main = renderPostfixMainCf(config);
    for (const line of [
      "myhostname = mail.example.com",
      "smtp_helo_name = $myhostname",
      "virtual_mailbox_domains = example.com example.org",
      "virtual_transport = lmtp:unix:private/dovecot-lmtp",
      "smtpd_recipient_restrictions = reject_non_fqdn_recipient, check_recipient_access pcre:/etc/postfix/recipient_checks.pcre, reject_unlisted_recipient, reject_unauth_destination",
      "local_recipient_maps = texthash:/etc/postfix/local_recipients",
      "local_transport = error:5.1.1 this host delivers no local mail",
      "smtpd_sender_login_maps = texthash:/etc/postfix/sender_logins",
      "postforge_submission_sender_restrictions = reject_non_fqdn_sender, reject_sender_login_mismatch, check_sender_access texthash:/etc/postfix/sending_domains, reject",
      "smtpd_forbid_bare_newline = reject",
      "smtpd_forbid_unauth_pipelining = yes",
      "smtp_tls_security_level = may",
      "smtpd_tls_exclude_ciphers = aNULL, eNULL",
      "smtpd_tls_mandatory_protocols = >=TLSv1.2",
      "milter_default_action = tempfail",
      "message_size_limit = 20971520",
      "smtpd_client_message_rate_limit = 120",
      "smtpd_client_event_limit_exceptions =",
      "postforge_submission_message_rate_limit = 6000",
      "maximal_queue_lifetime = 48h",
      "bounce_queue_lifetime = 24h",
      "service_throttle_time = 2s",
      "maillog_file = /var/log/postfix.log",
    ]) {
      assert.ok(main.split("\n").includes(line), `main.cf lacks: ${line}`);
    }
    const master = renderPostfixMasterCf(config);
    assert.match(master, /^submission +inet .* smtpd\n(  -o .*\n)*  -o smtpd_tls_security_level=encrypt\n/m);
    assert.match(master, /^submissions +inet .* smtpd\n(  -o .*\n)*  -o smtpd_tls_wrappermode=yes\n/m);
    assert.match(master, /^submission +inet .* smtpd\n(  -o .*\n)*  -o cleanup_service_name=submission-cleanup\n/m);
    assert.match(master, /^submission-cleanup unix .* cleanup\n  -o header_checks=pcre:\/etc\/postfix\/submission_header_checks\.pcre\n/m);
  });

  it("sender_logins: each address or domain to the logins that may use it, an address also to its domain's logins", () => {
    assert.equal(
      renderSenderLogins(config),
      "# Envelope sender -> the submission logins that may use it, rendered by Postforge.\n" +
        "@example.org webapp\n@news.example.org billing\nbilling@example.com billing\nnoreply@example.com webapp\n",
    );
    const roles = renderSenderLogins(parseMailHostConfig({ ...input, rolesMaySend: true }));
    assert.match(roles, /^abuse@example\.org abuse@example\.org,webapp$/m);
    assert.match(roles, /^postmaster@example\.com postmaster@example\.com$/m);
  });

  it("refuses a sender outside the signed domains, a subdomain of a strict domain, and a login listed twice, naming each", () => {
    assert.throws(
      () => parseMailHostConfig({ ...input, senders: [{ login: "x", allowed: ["x@provider.example", "Not An Address"] }, { login: "x", allowed: ["example.com"] }] }),
      (e: Error) =>
        /senders\[0\]\.allowed\[0\] = "x@provider\.example": is not in a domain this host signs \(example\.com, example\.org\)/.test(e.message) &&
        /senders\[0\]\.allowed\[1\] = "not an address": must be an address/.test(e.message) &&
        /senders\[1\]\.login = "x": is listed twice/.test(e.message),
    );
    const strictCom = { ...input, domains: input.domains.map((d, i) => ({ ...d, strictDkimAlignment: i === 0 })) };
    assert.throws(() => parseMailHostConfig({ ...strictCom, senders: [{ login: "n", allowed: ["news.example.com"] }] }), /senders\[0\]\.allowed\[0\] = "news\.example\.com": is a subdomain of example\.com, whose DMARC asks for strict DKIM alignment \(adkim=s\)/);
    assert.throws(() => parseMailHostConfig({ ...input, queue: { maximalLifetimeHours: 12, bounceLifetimeHours: 24 } }), /queue\.bounceLifetimeHours = 24: .*must not exceed maximalLifetimeHours/);
  });
});

describe("Postfix accepts the rendered configuration (postfix check, postconf, postmap)", () => {
  let root: TestRoot;
  let dir: string;
  const postmapQuery = (key: string, table: string) => run("postmap", ["-c", dir, "-q", key, table]);

  before(async () => {
    root = await makeTestRoot();
    dir = root.at(PATHS.postfixDir);
    await installFiles(root, renderPostfix(config));
    await preparePostfixDirs(root);
  });
  after(() => root.cleanup());

  it("postfix check passes and creates the queue", async () => {
    const result = await postfixCheck(dir);
    assert.ok(result.ok, result.output);
    assert.equal(result.output.trim(), "", `postfix check warned:\n${result.output}`);
    assert.match((await run("ls", [root.at(PATHS.postfixQueue)])).stdout, /\bmaildrop\b/);
  });

  it("postconf -n shows the key settings and warns about nothing (no misspelt parameter)", async () => {
    const result = await run("postconf", ["-c", dir, "-n"]);
    assert.ok(result.ok, result.output);
    assert.equal(result.stderr, "", result.stderr);
    const settings = new Map(result.stdout.trim().split("\n").map((l) => l.split(" = ", 2) as [string, string]));
    assert.equal(settings.get("myhostname"), "mail.example.com");
    assert.equal(settings.get("smtp_helo_name"), "$myhostname");
    assert.equal(settings.get("smtp_tls_security_level"), "may");
    assert.equal(settings.get("smtpd_milters"), `unix:${root.at(OPENDKIM_MILTERS.rsa.socket)}, unix:${root.at(OPENDKIM_MILTERS.ed25519.socket)}`);
    assert.equal(settings.get("inet_interfaces"), LAB.MAIL_HOST);
    assert.match(settings.get("smtpd_recipient_restrictions") ?? "", /reject_unauth_destination$/);
    assert.equal(settings.get("virtual_mailbox_maps"), `texthash:${root.at(PATHS.virtualMailboxes)}, pcre:${root.at(PATHS.verpBounceAddresses)}`);
  });

  it("postmap reads the bounce and complaint tables as Postfix will: VERP addresses accepted and piped, the feedback-loop copy piped, MAIL FROM asking for VERP", async () => {
    const verp = `pcre:${root.at(PATHS.verpBounceAddresses)}`;
    assert.equal((await postmapQuery("noreply+alice=example.net@example.com", verp)).stdout, "OK\n");
    assert.equal((await postmapQuery("news+bob+x=example.net@example.org", verp)).stdout, "OK\n");
    for (const other of ["noreply@example.com", "noreply+tag@example.com", "noreply+alice=example.net@elsewhere.example", "noreply+alice=example.net@sub.example.com"]) {
      assert.equal((await postmapQuery(other, verp)).code, 1, other);
    }
    const transport = `pcre:${root.at(PATHS.transportMaps)}`;
    assert.equal((await postmapQuery("noreply+alice=example.net@example.com", transport)).stdout, "postforge-bounce:\n");
    assert.equal((await postmapQuery("fbl+intake@example.com", transport)).stdout, "postforge-complaint:\n");
    assert.equal((await postmapQuery("feedback+intake@example.org", transport)).stdout, "postforge-complaint:\n");
    assert.equal((await postmapQuery("fbl@example.com", transport)).code, 1, "the mailbox itself stays with Dovecot");
    const aliases = `texthash:${root.at(PATHS.virtualAliases)}`;
    assert.equal((await postmapQuery("fbl@example.com", aliases)).stdout, "fbl@example.com, fbl+intake@example.com\n");
    const filter = `pcre:${root.at(PATHS.submissionCommandFilter)}`;
    assert.equal((await postmapQuery("MAIL FROM:<noreply@example.com> SIZE=100 BODY=8BITMIME", filter)).stdout, "MAIL FROM:<noreply@example.com> SIZE=100 BODY=8BITMIME XVERP\n");
    assert.equal((await postmapQuery("mail from:<noreply@example.com>", filter)).stdout, "mail from:<noreply@example.com> XVERP\n");
    for (const untouched of ["MAIL FROM:<noreply@example.com> XVERP", "MAIL FROM:<>", "RCPT TO:<bob@example.net>"]) {
      assert.equal((await postmapQuery(untouched, filter)).code, 1, untouched);
    }
  });

  it("postconf -P: 587 requires STARTTLS and SASL, 465 is implicit TLS", async () => {
    const result = await run("postconf", ["-c", dir, "-P"]);
    assert.ok(result.ok, result.output);
    const lines = result.stdout.split("\n");
    for (const line of [
      "submission/inet/smtpd_tls_security_level = encrypt",
      "submission/inet/smtpd_sasl_auth_enable = yes",
      "submission/inet/smtpd_forbid_bare_newline = normalize",
      "submissions/inet/smtpd_tls_wrappermode = yes",
      "submissions/inet/smtpd_tls_security_level = encrypt",
      "submissions/inet/smtpd_client_restrictions = $postforge_submission_client_restrictions",
      "submissions/inet/cleanup_service_name = submission-cleanup",
      "submission-cleanup/unix/nested_header_checks =",
    ]) {
      assert.ok(lines.includes(line), `postconf -P lacks ${line}:\n${result.stdout}`);
    }
  });

  it("postmap reads the tables as Postfix will: role addresses, submission networks, sending domains", async () => {
    const mailboxes = `texthash:${root.at(PATHS.virtualMailboxes)}`;
    assert.equal((await postmapQuery("dmarc@example.org", mailboxes)).stdout, "OK\n");
    assert.equal((await postmapQuery("stranger@example.org", mailboxes)).code, 1);
    const aliases = `texthash:${root.at(PATHS.virtualAliases)}`;
    assert.equal((await postmapQuery("postmaster@mail.example.com", aliases)).stdout, "postmaster@example.com\n");
    const clients = `cidr:${root.at(PATHS.submissionClients)}`;
    assert.equal((await postmapQuery("10.20.3.4", clients)).stdout, "OK\n");
    assert.equal((await postmapQuery("2001:db8:20::9", clients)).stdout, "OK\n");
    const outside = await postmapQuery("203.0.113.9", clients);
    assert.equal(outside.code, 1, outside.output);
    assert.equal(outside.stderr, "", "no cidr rule may be skipped with a warning");
    const domains = `texthash:${root.at(PATHS.sendingDomains)}`;
    assert.equal((await postmapQuery("example.org", domains)).stdout, "OK\n");
    assert.equal((await postmapQuery("example.net", domains)).code, 1);
    const logins = `texthash:${root.at(PATHS.senderLogins)}`;
    assert.equal((await postmapQuery("noreply@example.com", logins)).stdout, "webapp\n");
    assert.equal((await postmapQuery("@example.org", logins)).stdout, "webapp\n");
    const literal = await postmapQuery("x@[192.0.2.1]", `pcre:${root.at(PATHS.recipientChecks)}`);
    assert.match(literal.stdout, /^REJECT 5\.1\.2 address literals/);
    assert.equal((await postmapQuery("x@example.com", `pcre:${root.at(PATHS.recipientChecks)}`)).code, 1);
  });

  it("the submission header check passes one address in a signed domain, and refuses anything else", async () => {
    const table = `pcre:${root.at(PATHS.submissionHeaderChecks)}`;
    const verdict = async (header: string) => (await postmapQuery(header, table)).stdout.trim().split(" ")[0];
    for (const ok of [
      "From: noreply@example.com",
      "From: Shop <noreply@example.com>",
      'From: "Shop, Inc." <noreply@example.com>',
      "From: =?utf-8?q?Caf=C3=A9?= <noreply@EXAMPLE.org>",
      "From: news@news.example.org (News)",
      "From: Shop\n <noreply@example.com>",
    ]) {
      assert.equal(await verdict(ok), "DUNNO", ok);
    }
    for (const refused of [
      "From: someone@provider.example",
      "From: noreply@example.com, someone@provider.example",
      'From: "noreply@example.com" <someone@provider.example>',
      "From: noreply@example.com.provider.example",
      "From: noreply@notexample.com",
      "From: undisclosed:;",
      "From: Shop <noreply@example.com> <x@provider.example>",
    ]) {
      assert.equal(await verdict(refused), "REJECT", refused);
    }
  });

  it("has teeth: a broken main.cf or master.cf fails, a misspelt parameter warns", async () => {
    const mainPath = root.at(PATHS.postfixMainCf);
    const masterPath = root.at(PATHS.postfixMasterCf);
    const goodMain = await readFile(mainPath, "utf8");
    const goodMaster = await readFile(masterPath, "utf8");
    try {
      await writeFile(mainPath, goodMain.replace(/^message_size_limit = \d+$/m, "message_size_limit = 20MB"));
      const badNumber = await postfixCheck(dir);
      assert.equal(badNumber.ok, false);
      assert.match(badNumber.output, /bad numerical configuration: message_size_limit = 20MB/);

      await writeFile(mainPath, goodMain.replace("smtpd_relay_restrictions =", "smtpd_relay_restriction ="));
      assert.match((await run("postconf", ["-c", dir, "-n"])).stderr, /unused parameter: smtpd_relay_restriction=/);
      await writeFile(mainPath, goodMain);

      await writeFile(masterPath, goodMaster.replace(/^(smtp +inet).*$/m, "$1 n - n"));
      const badMaster = await postfixCheck(dir);
      assert.equal(badMaster.ok, false);
      assert.match(badMaster.output, /bad field count/);
    } finally {
      await writeFile(mainPath, goodMain);
      await writeFile(masterPath, goodMaster);
    }
    assert.ok((await postfixCheck(dir)).ok, "restored config passes again");
  });
});

describe("OpenDKIM accepts the rendered configuration (opendkim -n)", () => {
  let root: TestRoot;
  let conf: string;
  before(async () => {
    root = await makeTestRoot();
    conf = root.at(PATHS.opendkimConf);
    await installFiles(root, renderOpenDkim(config).files);
    await writeDkimKeys(root, config);
  });
  after(() => root.cleanup());

  it("opendkim -n -x passes on both signers with relocated paths and real RSA and Ed25519 keys", async () => {
    for (const file of [conf, root.at(PATHS.opendkimEd25519Conf)]) {
      const result = await run("opendkim", ["-n", "-x", file]);
      assert.ok(result.ok, `${file}: ${result.output}`);
    }
    const keyTable = await readFile(root.at(PATHS.keyTableEd25519), "utf8");
    assert.match(keyTable, new RegExp(`:${root.root}/etc/opendkim/keys/example\\.com/pf2026q4e\\.private$`, "m"));
  });

  it("has teeth: an unknown parameter, a bad value or a missing table fails", async () => {
    const good = await readFile(conf, "utf8");
    try {
      await writeFile(conf, `${good}SigningTabel refile:${root.at(PATHS.signingTable)}\n`);
      const unknown = await run("opendkim", ["-n", "-x", conf]);
      assert.equal(unknown.ok, false);
      assert.match(unknown.output, /unrecognized parameter/);

      await writeFile(conf, good.replace(/^Canonicalization .*$/m, "Canonicalization relaxed/loose"));
      assert.equal((await run("opendkim", ["-n", "-x", conf])).ok, false);

      await writeFile(conf, good);
      await rm(root.at(PATHS.trustedHosts));
      const missing = await run("opendkim", ["-n", "-x", conf]);
      assert.equal(missing.ok, false);
      assert.match(missing.output, /TrustedHosts: dkimf_db_open\(\): No such file or directory/);
    } finally {
      await writeFile(conf, good);
      await installFiles(root, renderOpenDkim(config).files);
    }
  });
});

describe("Dovecot accepts the rendered configuration (doveconf -n)", () => {
  let root: TestRoot;
  let conf: string;
  before(async () => {
    root = await makeTestRoot();
    conf = root.at(PATHS.dovecotConf);
    await installFiles(root, renderDovecot(config).files);
    await writeSelfSignedCert(root, config.hostname);
  });
  after(() => root.cleanup());

  it("doveconf -n passes and shows TLS-only IMAP, LMTP and the Postfix sockets", async () => {
    const result = await run("doveconf", ["-c", conf, "-n"]);
    assert.ok(result.ok, result.output);
    const text = result.stdout;
    assert.match(text, /^protocols = imap lmtp$/m);
    assert.match(text, /^ssl = required$/m);
    assert.match(text, /inet_listener imaps \{\n\s+port = 993\n\s+ssl = yes\n/);
    assert.match(text, /inet_listener imap \{\n\s+port = 0\n/);
    assert.ok(text.includes(`unix_listener ${root.root}/var/spool/postfix/private/auth {`), text);
    assert.ok(text.includes(`unix_listener ${root.root}/var/spool/postfix/private/dovecot-lmtp {`), text);
    // IMAP knows the role mailboxes, from loopback and the admin networks; SMTP AUTH the logins, from the submission networks.
    const block = (header: string) => text.slice(text.indexOf(`${header} {\n`), text.indexOf("\n}\n", text.indexOf(`${header} {\n`)));
    assert.ok(block("protocol !smtp").includes(`args = scheme=SHA512-CRYPT username_format=%Lu ${root.root}/etc/dovecot/passwd\n`), text);
    assert.ok(block("protocol !smtp").includes("override_fields = allow_nets=127.0.0.1/32,::1/128,192.0.2.0/24\n"), text);
    assert.ok(block("protocol smtp").includes(`args = scheme=SHA512-CRYPT username_format=%Lu ${root.root}/etc/dovecot/senders\n`), text);
    assert.ok(block("protocol smtp").includes("override_fields = allow_nets=10.20.0.0/16,2001:db8:20::/48\n"), text);
    assert.ok(!block("protocol smtp").includes("/etc/dovecot/passwd"), "role mailboxes may not send unless rolesMaySend");
    assert.match(text, /^ssl_cipher_list = ECDHE-ECDSA-AES128-GCM-SHA256:.*:DHE-RSA-CHACHA20-POLY1305$/m);
    // doveconf -a also expands `ssl_cert = <file`: the certificate must be readable.
    assert.ok((await run("doveconf", ["-c", conf, "-a"])).ok);
  });

  it("has teeth: an unknown setting or a bad value fails", async () => {
    const good = await readFile(conf, "utf8");
    try {
      await writeFile(conf, good.replace(/^ssl = required$/m, "ssl = mandatory"));
      const bad = await run("doveconf", ["-c", conf, "-n"]);
      assert.equal(bad.ok, false);
      assert.match(bad.output, /Invalid value: mandatory/);
      await writeFile(conf, good.replace(/^protocols = /m, "protocol = "));
      assert.equal((await run("doveconf", ["-c", conf, "-n"])).ok, false);
    } finally {
      await writeFile(conf, good);
    }
  });
});

describe("cloud-init user-data", () => {
  let root: TestRoot;
  const userData = renderCloudInit(config);
  before(async () => {
    root = await makeTestRoot();
  });
  after(() => root.cleanup());

  it("passes cloud-init schema", async () => {
    const file = root.at("/user-data");
    await writeFile(file, userData);
    const result = await run("cloud-init", ["schema", "--config-file", file]);
    assert.ok(result.ok, result.output);
    assert.match(result.stdout, /Valid cloud-config/);
  });

  it("has teeth: a broken user-data fails cloud-init schema", async () => {
    const file = root.at("/broken-user-data");
    await writeFile(file, userData.replace(/^packages:\n(  - .*\n)+/m, "packages: postfix\n"));
    const result = await run("cloud-init", ["schema", "--config-file", file]);
    assert.equal(result.ok, false);
    assert.match(result.output, /packages: 'postfix' is not of type 'array'/);
  });

  it("writes only the sync machinery, deferred until the packages exist, enables its timer and runs it once", () => {
    assert.ok(userData.startsWith("#cloud-config\n"));
    const document = parse(userData) as { write_files: { path: string; content: string; defer: boolean; permissions: string }[]; runcmd: string[][]; packages: string[] };
    const expected = syncFiles(config);
    assert.deepEqual(document.write_files.map((f) => f.path), [PATHS.writeFilesScript, PATHS.syncScript, PATHS.syncService, PATHS.syncTimer]);
    for (const [i, file] of expected.entries()) {
      assert.equal(document.write_files[i].content, file.content, file.path);
      assert.equal(document.write_files[i].permissions, file.permissions, file.path);
      assert.equal(document.write_files[i].defer, true, file.path);
    }
    assert.deepEqual(document.runcmd, [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "postforge-sync.timer"], [PATHS.syncScript]]);
    for (const p of ["postfix", "opendkim", "dovecot-lmtpd", "awscli", "certbot", "python3", "python3-certbot-dns-route53"]) assert.ok(document.packages.includes(p), p);
  });

  it("does not change with the configuration: a key rotation, a new domain or a new limit reaches the host in place", () => {
    const rotated = parseMailHostConfig({
      ...input,
      domains: [{ domain: "example.com", selectors: [selector("example.com", "pf2027q2", "rsa")] }, ...input.domains.slice(1), { domain: "example.io", selectors: [selector("example.io", "pf2027q2", "rsa")] }],
      messageSizeLimit: 52_428_800,
    });
    assert.equal(renderCloudInit(rotated), userData);
    assert.notEqual(renderConfigManifest(rotated), renderConfigManifest(config));
    // What does change it: the host's name, its region, its DNS provider (certbot's plugin).
    assert.notEqual(renderCloudInit(parseMailHostConfig({ ...input, awsRegion: "us-east-1" })), userData);
  });

  it("holds no secret and no configuration; the manifest it fetches holds every rendered file and only secret names", () => {
    assert.doesNotMatch(userData, /PRIVATE KEY/);
    assert.ok(userData.includes("SECRET=postforge/mail-host/mail.example.com/config\n"));
    assert.ok(userData.includes("REGION=eu-west-1"));
    const manifest = renderConfigManifest(config);
    assert.deepEqual(JSON.parse(manifest).files, mailHostFiles(config));
    for (const text of [userData, manifest]) {
      assert.doesNotMatch(text, /PRIVATE KEY/);
      assert.doesNotMatch(text, /\$(?:1|2[aby]|5|6|y|argon2id?)\$[./A-Za-z0-9$=,]{8,}/, "no crypt(3) password hash");
      assert.doesNotMatch(text, /\{(?:SHA512-CRYPT|BLF-CRYPT|ARGON2ID|SSHA512|PLAIN)\}\S/, "no Dovecot password field");
      assert.doesNotMatch(text, /api_token = \S/);
    }
    const boot = mailHostFiles(config).find((f) => f.path === PATHS.bootScript)!.content;
    for (const d of config.domains) {
      for (const sel of d.selectors) {
        assert.ok(boot.includes(`install_secret ${dkimSecretName(d.domain, sel.selector)} /etc/opendkim/keys/${d.domain}/${sel.selector}.private opendkim:opendkim 0600`));
      }
    }
    assert.ok(boot.includes("aws secretsmanager get-secret-value --secret-id \"$name\" --region \"$REGION\""));
    assert.ok(boot.includes("install_secret postforge/mailhost/mail.example.com/passwd /etc/dovecot/passwd root:dovecot 0640"));
    for (const m of roleMailboxes(config)) assert.ok(boot.includes(`require_mailbox ${m.address}\n`), m.address);
  });

  it("orders the boot: keys and passwords, self-signed certificate, checks, services, then Let's Encrypt", async () => {
    const script = mailHostFiles(config).find((f) => f.path === PATHS.bootScript)!.content;
    const file = root.at("/postforge-boot");
    await writeFile(file, script);
    const syntax = await run("bash", ["-n", file]);
    assert.ok(syntax.ok, syntax.output);
    const main = script.slice(script.indexOf('if [ "${1:-}" = certificate ]'));
    const order = [
      "install_secret postforge/dkim/",
      "install_secret postforge/mailhost/",
      "openssl req -x509",
      "postfix -c /etc/postfix check",
      "opendkim -n -x /etc/opendkim.conf\n",
      "opendkim -n -x /etc/opendkim-ed25519.conf",
      "systemctl restart opendkim opendkim-ed25519 dovecot postfix postforge-unsubscribe postforge-metrics",
      "find /etc/opendkim/keys -name '*.private'",
      "\n( certificate ) || ",
    ];
    const positions = order.map((needle) => main.indexOf(needle));
    assert.ok(positions.every((p) => p >= 0), `missing step: ${order[positions.indexOf(-1)]}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, "boot steps out of order");
    assert.match(script, /certbot certonly .*\\\n +--email postmaster@example\.com \\\n +-d mail\.example\.com .*\n(.*\n)*? +--dns-route53/);
    // Every configured key is kept; any other key file (retired, revoked) is removed.
    for (const d of config.domains) for (const sel of d.selectors) assert.ok(script.includes(`    /etc/opendkim/keys/${d.domain}/${sel.selector}.private) ;;\n`), sel.selector);
    assert.doesNotMatch(script, /disable --now opendkim-ed25519/, "the Ed25519 signer stays while a domain dual-signs");
    const rsaOnly = parseMailHostConfig({ ...input, senders: [], domains: [{ domain: "example.com", selectors: [selector("example.com", "pf2026q4", "rsa")] }] });
    assert.match(renderBootScript(rsaOnly), /systemctl disable --now opendkim-ed25519 2>\/dev\/null \|\| true\nsystemctl enable opendkim dovecot postfix postforge-unsubscribe postforge-metrics\n/);
    // A staging certificate has its own name, so leaving staging fetches a trusted one.
    assert.match(renderBootScript(parseMailHostConfig({ ...input, tls: { ...input.tls, staging: true } })), /--cert-name mail\.example\.com-staging \\\n(.*\n)*? +--staging/);
  });

  it("relocate moves only /etc, /var, /run and /usr/local paths and the listen addresses, and unrelocate undoes it exactly", () => {
    const text = "a = /etc/x <b>/var/y c:/run/z /usr/share/dns/root.key >/etc/cron.d/x /usr/local/sbin/p\ninet_interfaces = all\nlisten = *, ::\n";
    const moved = relocate(text, "/tmp/r");
    assert.equal(
      moved,
      `a = /tmp/r/etc/x <b>/tmp/r/var/y c:/tmp/r/run/z /usr/share/dns/root.key >/tmp/r/etc/cron.d/x /tmp/r/usr/local/sbin/p\ninet_interfaces = ${LAB.MAIL_HOST}\nlisten = ${LAB.MAIL_HOST}\n`,
    );
    assert.equal(unrelocate(moved, "/tmp/r"), text);
  });
});
