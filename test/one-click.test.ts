/**
 * RFC 8058 one-click unsubscribe, the application's half (components/sending/one-click.ts):
 * the URL a recipient's List-Unsubscribe carries, and what the MAC refuses. The host's half
 * is run for real in test/mta-sending-ops.test.ts, on URLs made by these functions.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { oneClickUnsubscribeHeaders, oneClickUnsubscribeUrl, recipientOfToken, unsubscribeToken } from "../components/sending/one-click";

const KEY = "k".repeat(43);

describe("one-click unsubscribe URLs", () => {
  it("name the recipient (lower-cased) and a 22-character MAC of it, on the host's name", () => {
    const url = oneClickUnsubscribeUrl("mail.example.com", KEY, " Alice@Example.ORG ");
    const m = /^https:\/\/mail\.example\.com\/unsubscribe\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/.exec(url);
    assert.ok(m, url);
    assert.equal(Buffer.from(m[1], "base64url").toString(), "alice@example.org");
    assert.equal(recipientOfToken(KEY, `${m[1]}.${m[2]}`), "alice@example.org");
    assert.equal(unsubscribeToken(KEY, "alice@example.org"), `${m[1]}.${m[2]}`);
  });

  it("are refused under another key, for another recipient, or cut", () => {
    const token = unsubscribeToken(KEY, "alice@example.org");
    assert.equal(recipientOfToken("x".repeat(43), token), undefined);
    const [, mac] = token.split(".");
    assert.equal(recipientOfToken(KEY, `${Buffer.from("bob@example.org").toString("base64url")}.${mac}`), undefined);
    assert.equal(recipientOfToken(KEY, token.slice(0, -1)), undefined);
    assert.equal(recipientOfToken(KEY, `${token}.x`), undefined);
    assert.equal(recipientOfToken(KEY, ""), undefined);
  });

  it("come with the two header fields RFC 8058 asks for", () => {
    assert.deepEqual(oneClickUnsubscribeHeaders("mail.example.com", KEY, "alice@example.org"), {
      "List-Unsubscribe": `<${oneClickUnsubscribeUrl("mail.example.com", KEY, "alice@example.org")}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
  });
});
