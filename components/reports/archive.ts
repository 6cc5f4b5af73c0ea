import { gunzipSync, inflateRawSync } from "node:zlib";
import { ReportRefused } from "./dmarc-aggregate";

/**
 * A report attachment as receivers send it: plain, gzip (`.xml.gz`, TLS-RPT's
 * `.json.gz`) or zip (`.zip`, one file), unpacked with a ceiling on what it
 * may grow to. zlib stops at the ceiling (`maxOutputLength`), so a
 * decompression bomb costs at most the ceiling in memory, and is refused
 * with the reason. Pure.
 */

export interface UnpackLimits {
  /** The largest attachment accepted, packed. */
  maxPackedBytes: number;
  /** The largest report accepted, unpacked. */
  maxUnpackedBytes: number;
}

/** Far above any real report (Google's largest daily aggregate reports are a few MB), far below what would hurt. */
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = { maxPackedBytes: 10 * 2 ** 20, maxUnpackedBytes: 50 * 2 ** 20 };

const mib = (n: number) => `${Math.round((n / 2 ** 20) * 10) / 10} MiB`;

function bounded<T>(what: string, limit: number, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || /Cannot create a Buffer larger than|output length/i.test((error as Error).message)) {
      throw new ReportRefused(`${what} unpacks to more than ${mib(limit)}: refused (a decompression bomb, or a report far larger than any receiver sends)`);
    }
    throw new ReportRefused(`${what} does not unpack: ${(error as Error).message}`);
  }
}

/** The one file of a zip archive, inflated within the limit (stored or deflated; not encrypted). */
function unzip(bytes: Buffer, limits: UnpackLimits): { name: string; data: Buffer } {
  // The end of central directory record: the last 22 bytes, or earlier when the archive has a comment.
  const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > bytes.length) throw new ReportRefused("the zip attachment has no central directory: not a zip file");
  const entries = bytes.readUInt16LE(eocd + 10);
  if (entries !== 1) throw new ReportRefused(`the zip attachment holds ${entries} files: a report is one`);
  const central = bytes.readUInt32LE(eocd + 16);
  if (central + 46 > bytes.length || bytes.readUInt32LE(central) !== 0x02014b50) throw new ReportRefused("the zip attachment's central directory does not read");
  const flags = bytes.readUInt16LE(central + 8);
  const method = bytes.readUInt16LE(central + 10);
  const packed = bytes.readUInt32LE(central + 20);
  const nameLength = bytes.readUInt16LE(central + 28);
  const local = bytes.readUInt32LE(central + 42);
  const name = bytes.subarray(central + 46, central + 46 + nameLength).toString("utf8");
  if (flags & 0x1) throw new ReportRefused(`the zip attachment's ${name} is encrypted`);
  if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50) throw new ReportRefused("the zip attachment's local header does not read");
  const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
  const body = bytes.subarray(start, start + packed);
  if (body.length !== packed) throw new ReportRefused(`the zip attachment's ${name} is cut short`);
  if (method === 0) {
    if (body.length > limits.maxUnpackedBytes) throw new ReportRefused(`the zip attachment's ${name} is more than ${mib(limits.maxUnpackedBytes)}: refused`);
    return { name, data: body };
  }
  if (method !== 8) throw new ReportRefused(`the zip attachment's ${name} is compressed with method ${method}: only stored and deflated are read`);
  return { name, data: bounded(`the zip attachment's ${name}`, limits.maxUnpackedBytes, () => inflateRawSync(body, { maxOutputLength: limits.maxUnpackedBytes })) };
}

/**
 * An attachment's report text: gzip and zip are recognised by their magic bytes (a filename or
 * content type can lie), anything else is taken as the text itself.
 */
export function unpackReport(bytes: Buffer, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): { packing: "plain" | "gzip" | "zip"; name?: string; text: string } {
  if (bytes.length > limits.maxPackedBytes) throw new ReportRefused(`the attachment is ${mib(bytes.length)}, over ${mib(limits.maxPackedBytes)}: refused unread`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return { packing: "gzip", text: bounded("the gzip attachment", limits.maxUnpackedBytes, () => gunzipSync(bytes, { maxOutputLength: limits.maxUnpackedBytes })).toString("utf8") };
  }
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) {
    const { name, data } = unzip(bytes, limits);
    return { packing: "zip", name, text: data.toString("utf8") };
  }
  if (bytes.length > limits.maxUnpackedBytes) throw new ReportRefused(`the attachment is ${mib(bytes.length)}, over the ${mib(limits.maxUnpackedBytes)} left to read: refused unread`);
  return { packing: "plain", text: bytes.toString("utf8") };
}
