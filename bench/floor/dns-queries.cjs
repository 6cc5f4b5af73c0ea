// The floor of `postforge verify`: the same DNS queries verify sent (the "name kind" lines of
// $BENCH_DNS_TRACE), asked of the same server ($BENCH_DNS_SERVER) as many at a time (8, verify's
// default), one pooled Resolver per query in flight, the answers printed as JSON. No checks.
"use strict";
const fs = require("node:fs");
const { Resolver } = require("node:dns").promises;

const queries = fs.readFileSync(process.env.BENCH_DNS_TRACE, "utf8").trim().split("\n").map((l) => l.split(" "));
const ask = { TXT: "resolveTxt", MX: "resolveMx", A: "resolve4", AAAA: "resolve6", PTR: "resolvePtr", CAA: "resolveCaa", CNAME: "resolveCname" };
const idle = [];
const answers = new Array(queries.length);
let next = 0;
const worker = async () => {
  while (next < queries.length) {
    const i = next++;
    const [name, kind] = queries[i];
    const resolver = idle.pop() ?? new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([process.env.BENCH_DNS_SERVER]);
    try {
      answers[i] = { name, kind, answer: await resolver[ask[kind]](name) };
    } catch (error) {
      answers[i] = { name, kind, error: error.code };
    } finally {
      idle.push(resolver);
    }
  }
};
Promise.all(Array.from({ length: 8 }, worker)).then(() => process.stdout.write(JSON.stringify(answers)));
