"""The Action's install steps (action.yml, scripts/action-install) through a
local composite runner: a release tag installs the release's checksummed
binary; a tampered asset is refused; a branch, or a release with no asset
for the runner, builds from the action's own directory with the pinned
toolchain, whatever rust-toolchain.toml the pull request's checkout holds,
and caches under a key made from the action's source only."""

import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

from .actions import Composite, StepFailed
from .support import ROOT, TempDirTest, cargo_version, run, wheel

ACTION_FILES = ["action.yml", "Cargo.toml", "Cargo.lock", "src", "scripts/action-install"]


def pinned_toolchain():
    text = (ROOT / "scripts" / "action-install").read_text()
    return re.search(r"(?m)^TOOLCHAIN=(\S+)$", text).group(1)


def host_triple():
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True)
    return re.search(r"(?m)^host: (\S+)$", out.stdout).group(1)


def rustup_dir():
    path = shutil.which("rustup")
    assert path, "the action's build test needs rustup (its proxies resolve toolchain files)"
    return Path(path).parent


def script(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class ActionInstallTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.version = cargo_version()
        # Real rustup proxies with their own home: the pinned toolchain is a
        # stand-in for the compiler (a real release build takes minutes) that
        # says where it ran and installs a marker binary.
        self.rustup_home = self.tmp / "rustup"
        self.pinned_log = self.tmp / "pinned.log"
        script(
            self.rustup_home / "toolchains" / f"{pinned_toolchain()}-{host_triple()}" / "bin" / "cargo",
            f'echo "$PWD|$*" >> {self.pinned_log}\n'
            '[ "$1" = install ] || exit 0\n'
            'root=\n'
            'while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done\n'
            '[ -n "$root" ] || { echo "cargo install without --root" >&2; exit 2; }\n'
            'mkdir -p "$root/bin"\n'
            "printf '#!/bin/sh\\necho alembot built-from-source\\n' > \"$root/bin/alembot\"\n"
            'chmod +x "$root/bin/alembot"\n',
        )
        self.env.update(
            RUSTUP_HOME=str(self.rustup_home),
            PATH=f"{rustup_dir()}:/usr/local/bin:/usr/bin:/bin",
            RUNNER_OS="Linux",
            RUNNER_ARCH="X64",
            ALEMBOT_ACTION_CACHE=str(self.tmp / "home" / ".cache" / "alembot-action"),
        )
        self.cache_store = self.tmp / "actions-cache"
        self.cache_store.mkdir()
        self.evil_marker = self.tmp / "EVIL"

    def action(self, ref):
        """The action as the runner lays it out: _actions/OWNER/REPO/REF."""
        action_dir = self.tmp / "_actions" / "alembot" / "alembot" / ref
        if not action_dir.exists():
            for rel in ACTION_FILES:
                src, dst = ROOT / rel, action_dir / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.copytree(src, dst)
                else:
                    shutil.copy2(src, dst)
        return action_dir

    def workspace(self, name="project"):
        """A pull request's checkout whose rust-toolchain.toml points cargo at
        its own toolchain."""
        ws = self.tmp / "work" / name / name
        evil = self.tmp / f"evil-{name}"
        for tool in ("cargo", "rustc"):
            script(evil / "bin" / tool, f'echo "$PWD|$*" >> {self.evil_marker}\nexit 0\n')
        ws.mkdir(parents=True)
        (ws / "rust-toolchain.toml").write_text(f'[toolchain]\npath = "{evil}"\n')
        (ws / ".cargo").mkdir()
        (ws / ".cargo" / "config.toml").write_text(f'[build]\nrustc = "{evil}/bin/rustc"\n')
        return ws

    def composite(self, ref, workspace=None, server=""):
        return Composite(
            self.action(ref),
            workspace or self.workspace(),
            self.cache_store,
            dict(self.env, GITHUB_SERVER_URL=server or "http://127.0.0.1:9"),
            {"action_repository": "", "action_ref": "", "token": "t"},
        )

    def serve(self, files):
        """A release page on 127.0.0.1: {name: bytes} under the tag's download path."""
        www = self.tmp / "www"
        base = www / "alembot" / "alembot" / "releases" / "download" / f"v{self.version}"
        base.mkdir(parents=True)
        for name, data in files.items():
            (base / name).write_bytes(data)
        handler = functools.partial(QuietHandler, directory=str(www))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def release_files(self):
        assets = self.tmp / "assets"
        out = run(
            [str(ROOT / "scripts" / "release-asset"), str(wheel()), "x86_64-unknown-linux-musl", str(assets)],
            cwd=self.tmp, env=self.env,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        out = run([str(ROOT / "scripts" / "release-asset"), "--checksums", str(assets)], cwd=self.tmp, env=self.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        return {p.name: p.read_bytes() for p in assets.iterdir()}

    def installs(self):
        """The pinned cargo's `install` calls, as `cwd|args`."""
        if not self.pinned_log.exists():
            return []
        return [c for c in self.pinned_log.read_text().splitlines() if "|install " in c]

    def installed(self, c):
        return Path(c.steps["build-key"]["root"]) / "bin" / "alembot"

    def test_a_branch_builds_in_the_actions_directory_with_the_pinned_toolchain(self):
        c = self.composite("main")
        c.run(until_id="run")
        self.assertFalse(
            self.evil_marker.exists(),
            "the pull request's toolchain ran: " + (self.evil_marker.read_text() if self.evil_marker.exists() else ""),
        )
        calls = self.installs()
        self.assertEqual(len(calls), 1, calls)
        cwd, args = calls[0].split("|", 1)
        self.assertEqual(cwd, str(c.action_dir))
        self.assertIn(f"install --locked --path {c.action_dir} --root", args)
        self.assertEqual(c.steps["prebuilt"]["found"], "false")
        out = run([str(self.installed(c))], cwd=self.tmp, env=self.env)
        self.assertEqual(out.stdout.strip(), "alembot built-from-source")
        self.assertTrue((self.cache_store / c.steps["build-key"]["key"] / "bin" / "alembot").is_file())

        # The next job restores the cache and builds nothing.
        shutil.rmtree(self.tmp / "home" / ".cache")
        again = self.composite("main", self.workspace("second"))
        again.run(until_id="run")
        self.assertEqual(again.steps["cache"]["cache-hit"], "true")
        self.assertEqual(len(self.installs()), 1, "no second build")
        self.assertTrue(self.installed(again).is_file())

    def test_the_cache_key_is_made_from_the_actions_source_only(self):
        first = self.composite("main")
        first.run(until_id="prebuilt")
        ws = self.workspace("other")
        (ws / "Cargo.lock").write_text("# a pull request's own lock file\n")
        (ws / "src").mkdir()
        (ws / "src" / "main.rs").write_text("fn main() {}\n")
        second = self.composite("main", ws)
        second.run(until_id="prebuilt")
        self.assertEqual(first.steps["build-key"], second.steps["build-key"])

        lib = first.action_dir / "src" / "lib.rs"
        lib.write_text(lib.read_text() + "\n// changed\n")
        third = self.composite("main", self.workspace("third"))
        third.run(until_id="prebuilt")
        self.assertNotEqual(first.steps["build-key"]["key"], third.steps["build-key"]["key"])
        self.assertIn(pinned_toolchain(), third.steps["build-key"]["key"])

    def test_a_release_tag_installs_the_checksummed_release_binary(self):
        server = self.serve(self.release_files())
        c = self.composite(f"v{self.version}", server=server)
        c.run(until_id="run")
        self.assertEqual(c.steps["prebuilt"]["found"], "true")
        self.assertNotIn("cache", c.steps, "no cache, no build for a release binary")
        self.assertFalse(self.pinned_log.exists())
        self.assertFalse(self.evil_marker.exists())
        out = run([str(self.installed(c)), "--version"], cwd=self.tmp, env=self.env)
        self.assertEqual(out.stdout.strip(), f"alembot {self.version}")

    def test_a_major_tag_installs_its_release_and_a_branch_named_like_one_does_not(self):
        server = self.serve(self.release_files())
        major = f"v{self.version.split('.')[0]}"
        c = self.composite(major, server=server)
        c.run(until_id="run")
        self.assertEqual(c.steps["prebuilt"]["found"], "true")
        self.assertIn(f"installed the v{self.version} release binary", c.log[1][3])
        # A ref that is no prefix of the version is not its release.
        other = self.composite("v99", self.workspace("v99"), server=server)
        other.run(until_id="run")
        self.assertEqual(other.steps["prebuilt"]["found"], "false")
        self.assertEqual(len(self.installs()), 1)

    def test_a_tampered_release_binary_is_refused(self):
        files = self.release_files()
        files["SHA256SUMS"] = re.sub(rb"^[0-9a-f]{64}", b"0" * 64, files["SHA256SUMS"], flags=re.M)
        c = self.composite(f"v{self.version}", server=self.serve(files))
        with self.assertRaises(StepFailed) as failed:
            c.run(until_id="run")
        self.assertIn("refusing it", str(failed.exception))
        self.assertIn("prebuilt", str(failed.exception))
        self.assertFalse(self.installed(c).exists())
        self.assertFalse(self.pinned_log.exists(), "no fallback build after a checksum mismatch")

    def test_a_release_without_a_checksums_file_is_refused(self):
        files = self.release_files()
        del files["SHA256SUMS"]
        c = self.composite(f"v{self.version}", server=self.serve(files))
        with self.assertRaises(StepFailed) as failed:
            c.run(until_id="run")
        self.assertIn("no SHA256SUMS", str(failed.exception))

    def test_a_release_with_no_asset_for_the_runner_builds_from_source(self):
        c = self.composite(f"v{self.version}", server=self.serve({"SHA256SUMS": b""}))
        c.run(until_id="run")
        self.assertEqual(c.steps["prebuilt"]["found"], "false")
        self.assertIn("HTTP 404", c.log[1][3])
        self.assertEqual(len(self.installs()), 1)
        self.assertFalse(self.evil_marker.exists())
