// The entry point of the host's postforge-mailops bundle (npm run build); see host-mailops.ts.
import { main } from "./host-mailops";

process.exitCode = main(process.argv.slice(2));
