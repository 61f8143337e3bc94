/**
 * The conformance kit as a grader runs it: `deno task conformance …` (here,
 * `tools/conformance/mod.ts` run as a process). Its command line, its exit
 * codes, the reports it writes, and its bounds: a target that says nothing,
 * one that crashes, one that cannot be run, and Ctrl-C, after which no
 * process it started is left and no file it wrote.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseKitArgs } from "../tools/conformance/cli.ts";
import { delay } from "../lib/async/delay.ts";
import { python, pythonServer } from "./support/conformance.ts";
import { REPO_ROOT, splitLines } from "./support/processes.ts";

const KIT = join(REPO_ROOT, "tools/conformance/mod.ts");

interface KitRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs the kit with `args` to its end. */
async function kit(
  args: string[],
  env: Record<string, string> = {},
): Promise<KitRun> {
  const began = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", KIT, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    seconds: (performance.now() - began) / 1000,
  };
}

Deno.test("conformance CLI: arguments", () => {
  const server = parseKitArgs([
    "server",
    "--json",
    "r.json",
    "--",
    "python3",
    "s.py",
    "{port}",
    "{users}",
  ]);
  assert.equal(server.mode, "server");
  assert.deepEqual(server.command, ["python3", "s.py", "{port}", "{users}"]);
  assert.equal(server.json, "r.json");
  assert.equal(server.startupMs, 10_000);
  assert.equal(server.timeoutWaitMs, 15_000);
  const target = parseKitArgs([
    "server",
    "--target",
    "[::1]:5000",
    "--users",
    "u.txt",
  ]);
  assert.deepEqual(target.target, { hostname: "::1", port: 5000 });
  const client = parseKitArgs([
    "client",
    "--strict",
    "--only",
    "prompts, commands",
    "--",
    "./c",
    "{host}",
    "{port}",
  ]);
  assert.deepEqual(client.only, ["prompts", "commands"]);
  assert.equal(client.strict, true);
  for (
    const [args, message] of [
      [[], /server or client/],
      [["server"], /after --/],
      [["server", "--", "python3", "s.py", "{port}"], /\{users\}/],
      [["client", "--", "./c", "{host}"], /\{port\}/],
      [["server", "--target", "h:1"], /--users/],
      [["server", "--target", "nohost", "--users", "u"], /HOST:PORT/],
      [[
        "server",
        "--target",
        "h:1",
        "--users",
        "u",
        "--",
        "x",
        "{port}",
        "{users}",
      ], /not both/],
      [["client", "--target", "h:1", "--users", "u"], /for a server/],
      [["server", "--jobs", "0", "--", "x", "{port}", "{users}"], /--jobs/],
      [["server", "--bogus", "--", "x", "{port}", "{users}"], /bogus/],
    ] as const
  ) {
    assert.throws(() => parseKitArgs([...args]), message, args.join(" "));
  }
});

Deno.test("conformance CLI: a broken server's report, in the terminal, JSON and Markdown; exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "conformance-cli-" });
  try {
    const json = join(dir, "report.json");
    const markdown = join(dir, "report.md");
    const run = await kit([
      "server",
      "--only",
      "login-101,login-102,list-order",
      "--json",
      json,
      "--markdown",
      markdown,
      "--",
      ...pythonServer("auth-401"),
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const lines = splitLines(run.stdout);
    for (
      const expected of [
        /^ {2}✓ login-101 +`\/login <user> <password>`/,
        /^ {2}✗ login-102 +A wrong password is answered `102 Authentication failed`$/,
        /^ {6}expected: SERVER\(a\): 102 Authentication failed$/,
        /^ {6}came: +SERVER\(a\): 401 Authentication failed$/,
        /^ {8}jacky\S* +00:00 CLIENT\(a\): \/login jacky\S* \S+x$/,
        /^ {2}✓ list-order /,
        /^Handout 1 of 2 passed · Decisions 1 of 1 passed$/,
        /^FAILED: 1 Handout check failed \(exit code 1\)$/,
      ]
    ) {
      assert.ok(
        lines.some((line) => expected.test(line)),
        `${expected}\n${run.stdout}`,
      );
    }
    const report = JSON.parse(await Deno.readTextFile(json));
    assert.equal(report.exitCode, 1);
    assert.equal(report.mode, "server");
    assert.deepEqual(report.summary.handout, {
      passed: 1,
      failed: 1,
      skipped: 0,
    });
    const failed = report.results.find((result: { id: string }) =>
      result.id === "login-102"
    );
    assert.equal(failed.got, "SERVER(a): 401 Authentication failed");
    assert.ok(failed.dialog.length >= 2);
    const text = await Deno.readTextFile(markdown);
    assert.match(text, /^# Conformance report: server$/m);
    assert.match(
      text,
      /^\| ✗ \| `login-102` \| A wrong password is answered `102 Authentication failed` \|/m,
    );
    assert.match(text, /^### ✗ `login-102` \(handout\)$/m);
    assert.match(text, /^expected: SERVER\(a\): 102 Authentication failed$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("conformance CLI: Decisions and Robustness count only with --strict", async () => {
  const args = [
    "--only",
    "login-101,list-order",
    "--",
    ...pythonServer("list-sorted"),
  ];
  const lenient = await kit(["server", ...args]);
  assert.equal(lenient.code, 0, lenient.stdout);
  assert.match(lenient.stdout, /✗ list-order/);
  assert.match(
    lenient.stdout,
    /PASSED: every Handout check passed \(exit code 0\)/,
  );
  const strict = await kit(["server", "--strict", ...args]);
  assert.equal(strict.code, 1, strict.stdout);
  assert.match(strict.stdout, /FAILED: 1 check failed \(exit code 1\)/);
});

Deno.test("conformance CLI: a wrong command line exits 2 with the usage", async () => {
  const wrong = await kit(["server", "--", "python3", "server.py"]);
  assert.equal(wrong.code, 2);
  assert.match(
    wrong.stderr,
    /^error: the command must contain \{port\}\nusage:/,
  );
  const unknown = await kit([
    "server",
    "--only",
    "no-such-check",
    "--",
    ...pythonServer(),
  ]);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^error: no such check: no-such-check \(see --list\)$/m,
  );
  const list = await kit(["client", "--list"]);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^handout +prompts +The client asks/m);
});

Deno.test("conformance CLI: a target that never answers, crashes at once or cannot be run fails, with the reason, within the bounds", async () => {
  const mute = [
    python(),
    "-S",
    "-c",
    "import socket, sys\ns = socket.create_server(('0.0.0.0', int(sys.argv[1])))\nheld = []\nwhile True: held.append(s.accept())",
    "{port}",
    "{users}",
  ];
  const crash = [
    python(),
    "-S",
    "-c",
    "import sys; sys.exit(3)",
    "{port}",
    "{users}",
  ];
  const asleep = [python(), "-S", "-c", "import time; time.sleep(60)"];
  const [silent, crashed, missing, deaf] = await Promise.all([
    kit(["server", "--only", "login-101", "--", ...mute]),
    kit(["server", "--", ...crash]),
    kit(["client", "--", "./no-such-client", "{host}", "{port}"]),
    kit([
      "server",
      "--startup",
      "1",
      "--only",
      "login-101",
      "--",
      ...asleep,
      "{port}",
      "{users}",
    ]),
  ]);

  assert.equal(silent.code, 1, silent.stdout);
  assert.match(
    silent.stdout,
    /came: +nothing (within 5 s|before the check's time ran out)/,
  );
  assert.ok(silent.seconds < 15, `took ${silent.seconds} s`);

  // Every check fails at once: a server that never started is not tried
  // again for each check.
  assert.equal(crashed.code, 1, crashed.stdout);
  assert.match(
    crashed.stdout,
    /why: the server exited with code 3 before it listened on port \d+/,
  );
  assert.doesNotMatch(crashed.stdout, /^ {2}✓/m);
  assert.ok(crashed.seconds < 30, `took ${crashed.seconds} s`);

  assert.equal(deaf.code, 1, deaf.stdout);
  assert.match(
    deaf.stdout,
    /why: the server did not listen on port \d+ within 1 s/,
  );

  assert.equal(missing.code, 1, missing.stdout);
  assert.match(missing.stdout, /why: cannot run \.\/no-such-client: /);
  assert.doesNotMatch(missing.stdout, /^ {2}✓/m);
});

Deno.test("conformance CLI: Ctrl-C stops every process the kit started and removes its files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "conformance-interrupt-" });
  const scratch = join(dir, "tmp");
  await Deno.mkdir(scratch);
  const pids = join(dir, "pids");
  try {
    // Each server writes its process id down before it starts.
    const server = [
      "sh",
      "-c",
      `echo $$ >> ${pids}; exec "$@"`,
      "sh",
      ...pythonServer("no-reply-timeout"),
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        KIT,
        "server",
        "--only",
        "silent-receiver-304",
        "--timeout-wait",
        "60",
        "--",
        ...server,
      ],
      env: { NO_COLOR: "1", TMPDIR: scratch },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const deadline = performance.now() + 20_000;
    while ((await Deno.readTextFile(pids).catch(() => "")).trim() === "") {
      assert.ok(performance.now() < deadline, "no server was started");
      await delay(50);
    }
    child.kill("SIGINT");
    const output = await child.output();
    assert.equal(output.code, 130, new TextDecoder().decode(output.stderr));
    assert.match(new TextDecoder().decode(output.stderr), /interrupted/);
    for (const pid of (await Deno.readTextFile(pids)).trim().split("\n")) {
      assert.throws(
        () => Deno.kill(Number(pid), "SIGCONT"),
        `process ${pid} is still running`,
      );
    }
    assert.deepEqual(
      [...Deno.readDirSync(scratch)],
      [],
      "the kit left files behind",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
