// Fails when src/schema.d.ts is not what openapi-typescript makes of docs/openapi.json
// (the API document changed without `make client`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "hd-schema-"));
try {
  const fresh = join(dir, "schema.d.ts");
  execFileSync(
    "npx",
    ["openapi-typescript", "../../docs/openapi.json", "--default-non-nullable", "false", "-o", fresh],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (readFileSync(fresh, "utf8") !== readFileSync("src/schema.d.ts", "utf8")) {
    console.error("src/schema.d.ts is out of date with docs/openapi.json: run `make client`");
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
