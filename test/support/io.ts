import type { Io } from "../../cli/postforge";

/** An Io that keeps what a command prints, for assertions. */
export function captureIo(): Io & { out: string; err: string } {
  const io = { out: "", err: "", stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}
